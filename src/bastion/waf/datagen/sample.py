"""The training sample type and small helpers shared by the generators."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

#: Labels a sample may carry; "attack" is malicious with an unknown or other vector.
LABELS: tuple[str, ...] = ("clean", "sqli", "xss", "rce", "attack")
#: What kind of request input a sample value is (matches the scorer's input kinds).
KINDS: tuple[str, ...] = ("path", "value", "header", "raw")
#: The three scored attack vectors.
VECTORS: tuple[str, ...] = ("sqli", "xss", "rce")


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled input value with its provenance and leakage-free split group."""

    value: str
    kind: str
    label: str
    source: str
    group: str


def words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words of a literal block (keeps long vocabularies readable)."""
    return tuple(text.split())


_FOLD_KEEP = frozenset(
    words(
        """
    from case when then else dual null char like user desc into drop exec from join
    left load file hash http alert href name data text type body form html open span
    bash echo exit kill ping sudo wget curl perl tail head more less find grep uname
    """
    )
)
_DIGITS = re.compile(r"\d+")
_HEX = re.compile(r"0x[0-9a-f]+")
_WORD4 = re.compile(r"\b[a-z]{4}\b")
_SPACES = re.compile(r"\s+")


def _fold_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word if word in _FOLD_KEEP else "w"


def fold_skeleton(text: str) -> str:
    """A near-duplicate key: lowercase, digits, hex literals and random 4-letter words folded."""
    low = _SPACES.sub(" ", text.lower()).strip()
    low = _HEX.sub("0x", low)
    low = _DIGITS.sub("0", low)
    return _WORD4.sub(_fold_word, low)


def group_key(prefix: str, text: str) -> str:
    """A stable group id ``prefix:<hash of the folded skeleton>`` (no Python ``hash()``)."""
    digest = hashlib.blake2b(fold_skeleton(text).encode("utf-8"), digest_size=6).hexdigest()
    return f"{prefix}:{digest}"


def weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    """Pick one option by weight."""
    total = sum(w for _, w in options)
    x = rng.random() * total
    for item, w in options:
        x -= w
        if x < 0:
            return item
    return options[-1][0]


def unique_samples(
    make: Callable[[], Sample | None], n: int, *, max_tries_factor: int = 6
) -> list[Sample]:
    """Call ``make`` until ``n`` samples with distinct values exist (or tries run out)."""
    seen: set[str] = set()
    out: list[Sample] = []
    tries = 0
    limit = max(n * max_tries_factor, 50)
    while len(out) < n and tries < limit:
        tries += 1
        sample = make()
        if sample is None or not sample.value or sample.value in seen:
            continue
        seen.add(sample.value)
        out.append(sample)
    return out


def rand_word(rng: random.Random, lo: int = 3, hi: int = 8) -> str:
    """A random lowercase pseudo-word."""
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(lo, hi)))


def rand_alnum(rng: random.Random, n: int, alphabet: str | None = None) -> str:
    """A random alphanumeric string of length ``n``."""
    chars = alphabet or "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(chars) for _ in range(n))


def rand_hex(rng: random.Random, n: int) -> str:
    """A random lowercase hex string of length ``n``."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def rand_ip(rng: random.Random, private: bool | None = None) -> str:
    """A random IPv4 address (private, public or either)."""
    if private is None:
        private = rng.random() < 0.4
    if private:
        first = rng.choice(["10", "192.168", "172.16", "172.31", "127.0.0"])
        parts = first.split(".")
        while len(parts) < 4:
            parts.append(str(rng.randint(1, 254)))
        return ".".join(parts)
    return ".".join(
        [str(rng.choice([8, 23, 34, 45, 51, 66, 81, 93, 104, 142, 151, 185, 203, 212]))]
        + [str(rng.randint(0, 255)) for _ in range(2)]
        + [str(rng.randint(1, 254))]
    )


def rand_uuid(rng: random.Random) -> str:
    """A random version-4-looking UUID."""
    h = rand_hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"
