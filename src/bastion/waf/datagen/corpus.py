"""The public corpora loader, the full training corpus, and labelled evaluation requests."""

# ruff: noqa: E501

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from bastion.waf.datagen import benign as B
from bastion.waf.datagen.encode import encode, pick_scheme
from bastion.waf.datagen.fpneg import generate_fp_negatives
from bastion.waf.datagen.guard import looks_malicious
from bastion.waf.datagen.hardneg import generate_hard_negatives, hard_negative
from bastion.waf.datagen.mutate import mutate
from bastion.waf.datagen.noise import generate_noise
from bastion.waf.datagen.other import generate_other_attacks
from bastion.waf.datagen.place import (
    PARTS,
    benign_request,
    header_safe,
    place,
    place_clean,
)
from bastion.waf.datagen.rce import generate_rce, rce_payload
from bastion.waf.datagen.sample import Sample, group_key, weighted
from bastion.waf.datagen.sqli import generate_sqli, sqli_payload
from bastion.waf.datagen.xss import generate_xss, xss_payload
from bastion.waf.request import HttpRequest

#: The shared files, in load order, with their label and input kind.
SHARED_FILES: tuple[tuple[str, str, str], ...] = (
    ("sqli/payloadbox_sqli.txt", "sqli", "value"),
    ("sqli/patt_sqli.txt", "sqli", "value"),
    ("sqli/httpparams_sqli.txt", "sqli", "value"),
    ("xss/payloadbox_xss.txt", "xss", "value"),
    ("xss/patt_xss.txt", "xss", "value"),
    ("xss/httpparams_xss.txt", "xss", "value"),
    ("rce/payloadbox_cmdi.txt", "rce", "value"),
    ("rce/patt_cmdi.txt", "rce", "value"),
    ("rce/httpparams_cmdi.txt", "rce", "value"),
    ("other/httpparams_path_traversal.txt", "attack", "value"),
    ("benign/httpparams_norm_values.txt", "clean", "value"),
    ("benign/fwaf_goodqueries_sample.txt", "clean", "path"),
    ("benign/fwaf_goodqueries_more.txt", "clean", "path"),
    ("mixed/fwaf_badqueries.txt", "attack", "path"),
)

# --- cleaning rules for the shared lists ----------------------------------------------------------

_PROBES = re.compile(
    r"""(?ix)^(
      [\W\d_]{0,6}                                   # punctuation/digit-only probes: ' ) -- || 1'1 %00
    | (and|or|xor|not)\s+(\d+|true|false|null)       # AND 1, AND true
    | \d+\s*[-+*]\s*(true|false|\d+)                 # 1-false, 1*56
    | ['"]?(like|asc|desc|or|and|limit|having|union|select|print)['"]?
    | \W*\s*(or|and)\s*\W*                           # ' or "   -- or #
    | \[\d+\] | %[0-9a-f]{2}(\s?%[0-9a-f]{2})? | \d+\s?%
    )$"""
)
_PROSE_HEADER = re.compile(r"^([A-Z][A-Za-z ,\-]*:?|#\s+[A-Za-z].*)$")
_XSS_SIGNAL = re.compile(
    r"(?i)<|>|javascript|vbscript|on[a-z]+\s*=|alert|prompt|confirm|eval|expression|%3c|&#|&lt|\\x3c|\\u00|\+adw-|document\.|fromcharcode|data:|import|script|window|top\[|constructor|\{\{|location|src\s*=|href\s*="
)
_XSS_PROBE = re.compile(
    r"(?i)^(on[a-z]+|fscommand|seeksegmenttime|&lt;?|&#x?0*(60|3c);?|%3c|\\x3c|\\u003c|xxx|\[[a-z]\])$"
)
_CMDI_CSV = re.compile(r'",\d+,cmdi,.*$')
_TRAVERSAL_FILES = (
    "etc/passwd",
    "windows/win.ini",
    "boot.ini",
    "etc/shadow",
    "etc/hosts",
    "winnt/win.ini",
    "proc/self/environ",
)
_FWAF_NOISE = re.compile(
    r"""(?ix)
    =\s*(https?|ftp|php|file|data|expect|zip)(:|%3a) | @rfiurl | rfiinc | xxpathxx | cirt\.net | acunetix | nessus | \.\./ | \.\.\\ | %00 | \\x[0-9a-f]{2}
    | \bcmd= | \bexec | passthru | phpinfo | /etc/ | win\.ini | boot\.ini | [<>'"`;|] | \$\{ | \{\$ | \bunion\b | \bselect\b | \bping\b | \brm\b | \bnc\b
    | \bdir\s | sleep\( | waitfor | /bin/ | =\s*-\d | \bor\b\s*\d | \[command\] | \bsystem\( | %27 | %3c | %22 | %3b | %7c | \bid$ | \bwget\b | \bcurl\b
    | \bcat\s | /\*\*/ | \bchr\( | \bchar\( | \beval\( | \bbase64_ | \bconcat\( | \binformation_schema
    """
)


def _read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return [line.rstrip("\r\n") for line in fh]


def _clean_sqli(line: str) -> str | None:
    if "\t" in line:
        head, _, tail = line.partition("\t")
        if re.fullmatch(r"[\sA-Za-z(),\-']*", tail):
            line = head
    text = line.strip()
    if len(text) <= 3 or _PROBES.match(text) or _PROSE_HEADER.match(text):
        return None
    return line


def _clean_xss(line: str) -> str | None:
    text = line.strip()
    if len(text) <= 3 or _XSS_PROBE.match(text) or not _XSS_SIGNAL.search(text):
        return None
    return line


def _clean_rce(line: str) -> str | None:
    line = _CMDI_CSV.sub("", line)
    text = line.strip()
    if len(text) <= 3 or _PROBES.match(text):
        return None
    return line


def _clean_traversal(line: str, k: int) -> str | None:
    text = line.strip()
    if len(text) <= 3:
        return None
    return text.replace("{file}", _TRAVERSAL_FILES[k % len(_TRAVERSAL_FILES)])


def _fwaf_good_clean(line: str) -> bool:
    return bool(line.strip()) and not _FWAF_NOISE.search(line) and not looks_malicious(line)


def _query_values(line: str) -> Iterable[str]:
    """Values of the query part of a logged path (split on & and =, as logged: not decoded)."""
    query = line.partition("?")[2]
    for pair in query.split("&"):
        _, eq, value = pair.partition("=")
        if eq and value.strip() and len(value) > 1:
            yield value


def load_shared(root: Path) -> list[Sample]:
    """All 14 shared files of ``datasets/waf`` as cleaned samples (see the module rules).

    Drops sqli-list probes (lines of <= 3 chars, lone quotes/comments/operators, prose headers),
    XSS-list fragments without any script signal, CSV debris in the cmdi list, and the attack
    lines hiding in the "good" web-log queries; fills ``{file}`` in traversal templates. fwaf good
    queries are clean paths (and their query values clean values); fwaf bad queries and path
    traversal are ``attack``; CSIC normal values are clean values.
    """
    out: list[Sample] = []
    seen: set[tuple[str, str]] = set()

    def add(value: str, kind: str, label: str, rel: str, prefix: str) -> None:
        key = (value, kind)
        if key in seen:
            return
        seen.add(key)
        out.append(
            Sample(value, kind, label, f"shared:{rel}", group_key(f"shared:{prefix}", value))
        )

    for rel, label, kind in SHARED_FILES:
        path = root / rel
        if not path.exists():
            continue
        stem = path.stem
        for k, line in enumerate(_read_lines(path)):
            if not line.strip():
                continue
            value: str | None = line
            if label == "sqli":
                value = _clean_sqli(line)
            elif label == "xss":
                value = _clean_xss(line)
            elif label == "rce":
                value = _clean_rce(line)
            elif rel.startswith("other/"):
                value = _clean_traversal(line, k)
            elif kind == "path" and label == "clean":
                if not _fwaf_good_clean(line):
                    continue
                for qv in _query_values(line):
                    add(qv, "value", "clean", rel, "fwaf_good_value")
            if value is not None:
                add(value, kind, label, rel, stem)
    return out


# --- corpus -------------------------------------------------------------------------------------

_PAYLOADS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "sqli": sqli_payload,
    "xss": xss_payload,
    "rce": rce_payload,
}
_VECTOR_WEIGHTS = (("sqli", 0.4), ("xss", 0.3), ("rce", 0.3))


def _sub_rng(seed: int, name: str) -> random.Random:
    return random.Random(f"bastion-datagen:{seed}:{name}")


def _n(base: int, scale: float) -> int:
    return max(1, round(base * scale))


#: A draw gives a candidate value and how to finish it into a sample, or None to skip it.
_Draw = Callable[[], tuple[str, Callable[[str], Sample]] | None]


def _distinct(n: int, draw: _Draw) -> list[Sample]:
    """Up to ``n`` samples with distinct values, from at most ``4 * n`` draws."""
    out: list[Sample] = []
    seen: set[str] = set()
    for _ in range(n * 4):
        if len(out) >= n:
            break
        got = draw()
        if got is None or got[0] in seen:
            continue
        seen.add(got[0])
        out.append(got[1](got[0]))
    return out


def _mutated(rng: random.Random, bases: list[Sample], n: int) -> list[Sample]:
    def draw() -> tuple[str, Callable[[str], Sample]] | None:
        base = rng.choice(bases)
        n_ops = weighted(rng, ((1, 2.0), (2, 3.0), (3, 3.0), (4, 1.5), (6, 0.5)))
        value = mutate(base.value, base.label, rng, n_ops=n_ops)
        if value == base.value:
            return None
        origin = "shared" if base.source.startswith("shared:") else "gen"
        source = f"gen:{base.label}:mutated:{origin}"
        return value, lambda v: Sample(v, base.kind, base.label, source, base.group)

    return _distinct(n, draw) if bases else []


def _encoded(rng: random.Random, bases: list[Sample], n: int) -> list[Sample]:
    def draw() -> tuple[str, Callable[[str], Sample]] | None:
        base = rng.choice(bases)
        scheme = pick_scheme(rng)
        value = encode(base.value, rng, scheme)
        if value == base.value:
            return None

        def finish(v: str) -> Sample:
            kind = "header" if rng.random() < 0.12 else "value"
            if kind == "header":
                v = header_safe(v)
            return Sample(v, kind, base.label, f"gen:{base.label}:encoded:{scheme}", base.group)

        return value, finish

    return _distinct(n, draw) if bases else []


def _in_context(rng: random.Random, vector: str, n: int) -> list[Sample]:
    """Grammar payloads as carried by other input kinds: header values, raw URL paths, text bodies."""
    gen = _PAYLOADS[vector]

    def draw() -> tuple[str, Callable[[str], Sample]]:
        payload, key = gen(rng)
        kind = weighted(rng, (("header", 0.5), ("path", 0.3), ("raw", 0.2)))
        if kind == "header":
            value = header_safe(payload)
            if rng.random() < 0.3:
                value = f"{B.user_agent(rng)} {value}"
        elif kind == "path":
            base = B.url_path(rng).split("?", 1)[0].rstrip("/")
            seg = (
                quote(payload, safe=rng.choice(["", "/", "!$&'()*+,;=:@"]))
                if rng.random() < 0.75
                else payload
            )
            value = f"{base}/{seg}"
        else:
            value = (
                B.xml_document(rng, payload)
                if rng.random() < 0.6
                else f"{B.sentence(rng)}\n{payload}"
                if rng.random() < 0.5
                else payload
            )
        source, group = f"gen:{vector}:context:{kind}", f"gen:{vector}:{key}"
        return value, lambda v: Sample(v, kind, vector, source, group)

    return _distinct(n, draw)


def _benign_raw(rng: random.Random, n: int) -> list[Sample]:
    """Clean text bodies as the parser sees them (XML, plain text, CSV, form text)."""
    out: list[Sample] = []
    seen: set[str] = set()
    for _ in range(n * 3):
        if len(out) >= n:
            break
        r = rng.random()
        if r < 0.2:
            value, sub = B.xml_body(rng), "xml"
        elif r < 0.45:
            text = hard_negative(rng)[0] if rng.random() < 0.4 else B.benign_value(rng)
            value, sub = B.xml_document(rng, text, escape=rng.random() < 0.6), "xml"
        elif r < 0.75:
            value, sub = B.message(rng), "text"
        elif r < 0.9:
            rows = [
                ",".join(
                    [B.person_name(rng).replace(",", ""), B.email(rng), str(rng.randint(1, 999))]
                )
                for _ in range(rng.randint(2, 6))
            ]
            value, sub = "name,email,qty\n" + "\n".join(rows), "csv"
        else:
            value, sub = hard_negative(rng)[0], "hardneg"
        if value in seen:
            continue
        seen.add(value)
        out.append(
            Sample(
                value,
                "raw",
                "clean",
                f"gen:clean:raw:{sub}",
                f"gen:clean:raw:{sub}:{rng.randrange(16)}",
            )
        )
    return out


def _cap(rng: random.Random, samples: list[Sample], limit: int) -> list[Sample]:
    if len(samples) <= limit:
        return samples
    idx = sorted(rng.sample(range(len(samples)), limit))
    return [samples[i] for i in idx]


#: Per-source caps (at scale 1) for the big, redundant shared files.
_SHARED_CAPS = {
    "shared:benign/fwaf_goodqueries_more.txt": 23000,
    "shared:mixed/fwaf_badqueries.txt": 9000,
    "shared:sqli/httpparams_sqli.txt": 6000,
    "shared:benign/httpparams_norm_values.txt": 20000,
}


def build_corpus(shared_root: Path | None, seed: int, scale: float = 1.0) -> list[Sample]:
    """The full training corpus: shared data (if ``shared_root``) plus every generator.

    Sizes scale with ``scale``: 1.0 gives about 300k samples with the shared data (57% clean, 9%
    encoded and 13% mutated attacks) and about 255k without it (59% clean, 11% encoded, 15%
    mutated). Deterministic for a given seed and scale; shuffled.
    """
    shared: list[Sample] = []
    if shared_root is not None:
        loaded = load_shared(shared_root)
        rng_cap = _sub_rng(seed, "shared-cap")
        by_source: dict[str, list[Sample]] = {}
        for s in loaded:
            by_source.setdefault(s.source, []).append(s)
        for source, items in by_source.items():
            cap = _SHARED_CAPS.get(source)
            shared += _cap(rng_cap, items, _n(cap, scale)) if cap is not None else items
        if scale < 1.0:
            shared = _cap(rng_cap, shared, _n(len(shared), scale))
    extra_clean = 0 if shared_root is not None else 1

    parts: list[Sample] = []
    parts += B.generate_benign(_sub_rng(seed, "benign"), _n(66000 + 20000 * extra_clean, scale))
    parts += _benign_raw(_sub_rng(seed, "benign-raw"), _n(6000, scale))
    parts += generate_hard_negatives(
        _sub_rng(seed, "hardneg"), _n(36000 + 5000 * extra_clean, scale)
    )
    parts += generate_noise(_sub_rng(seed, "noise"), _n(12000, scale))
    # Clean look-alikes from the categories the error analysis found scored as attacks.
    parts += generate_fp_negatives(_sub_rng(seed, "fpneg"), _n(36000, scale))

    grammar = {
        "sqli": generate_sqli(_sub_rng(seed, "sqli"), _n(10000, scale)),
        "xss": generate_xss(_sub_rng(seed, "xss"), _n(7000, scale)),
        "rce": generate_rce(_sub_rng(seed, "rce"), _n(9500, scale)),
    }
    for samples in grammar.values():
        parts += samples
    parts += generate_other_attacks(_sub_rng(seed, "other"), _n(3000, scale))
    for vector, n in (("sqli", 3000), ("xss", 2500), ("rce", 3000)):
        parts += _in_context(_sub_rng(seed, f"context-{vector}"), vector, _n(n, scale))

    # Mutation/encoding bases: fresh grammar payloads (not in the corpus as-is) and shared payloads.
    shared_by_vec = {
        v: [s for s in shared if s.label == v and s.kind == "value"] for v in ("sqli", "xss", "rce")
    }
    mutated: dict[str, list[Sample]] = {}
    for vector, n_mut, n_base in (
        ("sqli", 17000, 12000),
        ("xss", 10000, 8000),
        ("rce", 12000, 9000),
    ):
        gen = {"sqli": generate_sqli, "xss": generate_xss, "rce": generate_rce}[vector]
        bases = gen(_sub_rng(seed, f"{vector}-mutation-bases"), _n(n_base, scale))
        pool = bases + shared_by_vec[vector]
        mutated[vector] = _mutated(_sub_rng(seed, f"{vector}-mutate"), pool, _n(n_mut, scale))
        parts += mutated[vector]
    for vector, n_enc, n_base in (("sqli", 10000, 6000), ("xss", 9000, 5000), ("rce", 9000, 5000)):
        gen = {"sqli": generate_sqli, "xss": generate_xss, "rce": generate_rce}[vector]
        bases = gen(_sub_rng(seed, f"{vector}-encoding-bases"), _n(n_base, scale))
        pool = bases + shared_by_vec[vector] + mutated[vector][: _n(3000, scale)]
        parts += _encoded(_sub_rng(seed, f"{vector}-encode"), pool, _n(n_enc, scale))

    corpus: list[Sample] = []
    seen: set[tuple[str, str]] = set()
    for s in [*shared, *parts]:
        key = (s.value, s.kind)
        if key in seen:
            continue
        seen.add(key)
        corpus.append(s)
    _sub_rng(seed, "shuffle").shuffle(corpus)
    return corpus


# --- evaluation requests ------------------------------------------------------------------------

EVAL_SETS: tuple[str, ...] = (
    "clean_requests",
    "clean_hard_negatives",
    "sqli",
    "xss",
    "rce",
    "sqli_mutated",
    "bypass_encoded_any_part",
)


def build_eval_sets(seed: int, n_per_set: int = 500) -> dict[str, list[tuple[HttpRequest, str]]]:
    """Labelled full requests for evaluation, generated with a seed stream separate from training.

    Labels are "clean", "sqli", "xss" or "rce"; attacks are placed in any request part.
    """
    out: dict[str, list[tuple[HttpRequest, str]]] = {}
    rng = random.Random(f"bastion-eval:{seed}:clean")
    out["clean_requests"] = [(benign_request(rng), "clean") for _ in range(n_per_set)]
    rng = random.Random(f"bastion-eval:{seed}:hardneg")
    out["clean_hard_negatives"] = [
        (place_clean(hard_negative(rng)[0], rng)[0], "clean") for _ in range(n_per_set)
    ]
    for vector in ("sqli", "xss", "rce"):
        rng = random.Random(f"bastion-eval:{seed}:{vector}")
        gen = _PAYLOADS[vector]
        out[vector] = [(place(gen(rng)[0], rng)[0], vector) for _ in range(n_per_set)]
    rng = random.Random(f"bastion-eval:{seed}:sqli-mutated")
    out["sqli_mutated"] = [
        (place(mutate(sqli_payload(rng)[0], "sqli", rng, n_ops=rng.randint(2, 5)), rng)[0], "sqli")
        for _ in range(n_per_set)
    ]
    rng = random.Random(f"bastion-eval:{seed}:bypass")
    bypass: list[tuple[HttpRequest, str]] = []
    for _ in range(n_per_set):
        vector = weighted(rng, _VECTOR_WEIGHTS)
        payload = _PAYLOADS[vector](rng)[0]
        if rng.random() < 0.4:
            payload = mutate(payload, vector, rng, n_ops=rng.randint(1, 3))
        bypass.append((place(encode(payload, rng), rng, rng.choice(PARTS))[0], vector))
    out["bypass_encoded_any_part"] = bypass
    return out
