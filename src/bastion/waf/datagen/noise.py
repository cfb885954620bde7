"""Cloudflare-style noise: attack-token soup that is not an executable attack (label "clean")."""

# ruff: noqa: E501

from __future__ import annotations

import random
import re
from collections.abc import Callable

from bastion.waf.datagen.guard import looks_malicious
from bastion.waf.datagen.rce import rce_payload
from bastion.waf.datagen.sample import Sample, rand_word, unique_samples, weighted, words
from bastion.waf.datagen.sqli import sqli_payload
from bastion.waf.datagen.xss import xss_payload

_SQL_WORDS = words(
    """
    select from where union all order by group having limit insert into values update set delete drop
    table create alter exec execute declare sleep benchmark waitfor delay case when then else end null
    like between and or not is in exists count version database user char concat substring ascii
    information_schema tables columns schema cast convert int varchar hex unhex load_file outfile
    """
)
_JS_WORDS = words(
    """
    script alert prompt confirm eval document cookie window location onerror onload onclick onmouseover
    img src svg iframe body href javascript function return var let const fromCharCode atob setTimeout
    constructor innerHTML style expression import fetch this top self parent
    """
)
_SH_WORDS = words(
    """
    cat etc passwd shadow bin bash sh id whoami uname ls ping sleep curl wget nc echo chmod tmp dev tcp
    python perl php powershell cmd dir type net user ipconfig system exec IFS
    """
)
_PUNCT = (
    "'",
    '"',
    "(",
    ")",
    ";",
    "|",
    "&",
    "<",
    ">",
    "=",
    ",",
    "-",
    "--",
    "/",
    "*",
    "#",
    "`",
    "$",
    "{",
    "}",
    "[",
    "]",
    "%",
    "+",
    ":",
    ".",
    "!",
    "?",
    "@",
    "^",
    "~",
    "\\",
)
_PLAIN = words(
    """
    the a of to and in is it you that he was for on are as with his they at be this have from or one had
    by word but not what all were we when your can said there use an each which she do how their if will
    up other about out many then them these so some her would make like him into time has look two more
    """
)

_TOKEN = re.compile(r"\w+|[^\w\s]")


def _soup(rng: random.Random) -> str:
    pools = [(_SQL_WORDS, 2.0), (_JS_WORDS, 1.5), (_SH_WORDS, 1.5), (_PLAIN, 2.0), (_PUNCT, 1.2)]
    n = rng.randint(2, 9)
    toks = [rng.choice(weighted(rng, pools)) for _ in range(n)]
    joiner = weighted(rng, ((" ", 6.0), ("", 1.0), ("+", 0.7), ("_", 0.4), (",", 0.3), ("-", 0.3)))
    out = joiner.join(toks)
    if rng.random() < 0.3:
        out = out.upper() if rng.random() < 0.3 else out.title()
    return out


def _shuffled(rng: random.Random) -> str:
    """A real payload's tokens shuffled into a non-executable order."""
    gen: Callable[[random.Random], tuple[str, str]] = rng.choice(
        [sqli_payload, xss_payload, rce_payload]
    )
    payload, _ = gen(rng)
    toks = _TOKEN.findall(payload)
    if len(toks) < 3:
        return " ".join(toks)
    rng.shuffle(toks)
    keep = toks[: rng.randint(2, min(len(toks), 10))]
    return rng.choice([" ", "", " "]).join(keep)


def _defanged(rng: random.Random) -> str:
    """A payload with the parts that make it work removed (quotes, brackets, separators)."""
    gen: Callable[[random.Random], tuple[str, str]] = rng.choice(
        [sqli_payload, xss_payload, rce_payload]
    )
    payload, _ = gen(rng)
    strip = rng.choice(["'\"`<>;|&$()=", "'\"<>;|&=", "<>()'\";|&`$=#-/*"])
    out = "".join(c if c not in strip else rng.choice([" ", ""]) for c in payload)
    out = re.sub(r"\s+", " ", out).strip()
    return out[: rng.randint(8, 80)]


def _chars(rng: random.Random) -> str:
    """Random characters with an attack-like punctuation distribution."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789" * 2 + "'\"()<>;|&=-/*#%$`{}[],.:!?@^~\\ "
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 40)))


def _keyword_text(rng: random.Random) -> str:
    """Plain words mixed with a few attack keywords, no breakout structure."""
    words_ = [rng.choice(_PLAIN) for _ in range(rng.randint(3, 10))]
    for _ in range(rng.randint(1, 3)):
        words_.insert(
            rng.randrange(len(words_) + 1), rng.choice(_SQL_WORDS + _JS_WORDS + _SH_WORDS)
        )
    return " ".join(words_)


def _fragment(rng: random.Random) -> str:
    """A lone fragment/probe that is not an attack on its own."""
    return rng.choice(
        [
            "--", "/*", "*/", "#", ";", "||", "&&", "')", "\")", "'))", "<>", "</", "/>", "${}", "$()", "``", "%27", "%22", "%3C", "&lt;", "&gt;", "&#39;", "\\'", "\\\"",
            "AND", "OR", "NULL", "asc", "desc", "union", "select", "script", "alert", "onerror", "javascript", "passwd", "whoami", "/etc", "cmd", "exec", "sleep",
            f"{rand_word(rng)}'", f"'{rand_word(rng)}", f"\"{rand_word(rng)}\"", f"({rand_word(rng)})", f"[{rand_word(rng)}]", f"{{{rand_word(rng)}}}", f"<{rng.randint(1, 99)}",
            f"{rng.randint(1, 99)}>{rng.randint(1, 99)}", f"{rand_word(rng)};", f"{rand_word(rng)}|{rand_word(rng)}", f"{rand_word(rng)}&{rand_word(rng)}", f"{rand_word(rng)}--",
        ]
    )  # fmt: skip


_MAKERS: tuple[tuple[Callable[[random.Random], str], float], ...] = (
    (_soup, 3.0),
    (_shuffled, 2.5),
    (_defanged, 1.5),
    (_chars, 1.2),
    (_keyword_text, 2.0),
    (_fragment, 0.6),
)


def noise_value(rng: random.Random) -> tuple[str, str] | None:
    """One noise value and its maker name, or None when every draw looked like a real attack."""
    for _ in range(10):
        maker = weighted(rng, _MAKERS)
        value = maker(rng).strip()
        if value and not looks_malicious(value, aggressive=True):
            return value, maker.__name__.lstrip("_")
    return None


def generate_noise(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct noise values drawn from attack-token distributions, labelled "clean"."""

    def make() -> Sample | None:
        got = noise_value(rng)
        if got is None:
            return None
        value, maker = got
        return Sample(
            value,
            "value",
            "clean",
            f"gen:clean:noise:{maker}",
            f"gen:clean:noise:{maker}:{rng.randrange(16)}",
        )

    return unique_samples(make, n, max_tries_factor=12)
