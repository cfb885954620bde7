"""Tests for the WAF training-data generators (bastion.waf.datagen)."""

# ruff: noqa: E501

from __future__ import annotations

import base64
import html
import json
import random
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, unquote, unquote_plus

import pytest

from bastion.waf.datagen import (
    ENCODING_SCHEMES,
    EVAL_SETS,
    LABELS,
    PARTS,
    Sample,
    benign_request,
    build_corpus,
    build_eval_sets,
    encode,
    generate_benign,
    generate_hard_negatives,
    generate_noise,
    generate_other_attacks,
    generate_rce,
    generate_sqli,
    generate_xss,
    load_shared,
    mutate,
    place,
)
from bastion.waf.datagen.guard import looks_malicious
from bastion.waf.datagen.place import header_safe
from bastion.waf.inputs import extract_inputs
from bastion.waf.request import HttpRequest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "waf"
VECTOR_GENERATORS = {"sqli": generate_sqli, "xss": generate_xss, "rce": generate_rce}
ALL_GENERATORS = [
    generate_sqli,
    generate_xss,
    generate_rce,
    generate_benign,
    generate_hard_negatives,
    generate_noise,
    generate_other_attacks,
]


@pytest.fixture(scope="module")
def payloads() -> dict[str, list[str]]:
    return {
        v: [s.value for s in gen(random.Random(11), 400)] for v, gen in VECTOR_GENERATORS.items()
    }


# --- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("gen", ALL_GENERATORS, ids=lambda g: g.__name__)
def test_generators_are_deterministic(gen) -> None:
    assert gen(random.Random(5), 300) == gen(random.Random(5), 300)
    assert gen(random.Random(5), 300) != gen(random.Random(6), 300)


def test_place_mutate_encode_are_deterministic(payloads) -> None:
    p = payloads["sqli"][0]
    assert place(p, random.Random(1)) == place(p, random.Random(1))
    assert mutate(p, "sqli", random.Random(1)) == mutate(p, "sqli", random.Random(1))
    for scheme in (None, *ENCODING_SCHEMES):
        assert encode(p, random.Random(2), scheme) == encode(p, random.Random(2), scheme)
    assert benign_request(random.Random(3)) == benign_request(random.Random(3))


def test_generators_do_not_touch_the_global_rng() -> None:
    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    generate_sqli(random.Random(1), 50)
    generate_benign(random.Random(1), 50)
    place("x", random.Random(1))
    assert random.random() == expected


# --- attack generators --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", sorted(VECTOR_GENERATORS))
def test_vector_generators_distinct_and_non_trivial(vector: str) -> None:
    samples = VECTOR_GENERATORS[vector](random.Random(3), 3000)
    assert len(samples) >= 2900
    values = [s.value for s in samples]
    assert len(set(values)) == len(values)
    assert all(len(v) >= 3 and v.strip() for v in values)
    assert sorted(len(v) for v in values)[len(values) // 2] > 15
    assert {s.label for s in samples} == {vector}
    assert {s.kind for s in samples} == {"value"}
    assert all(
        s.source == f"gen:{vector}:grammar" and s.group.startswith(f"gen:{vector}:")
        for s in samples
    )
    assert len({s.group for s in samples}) >= 60  # many templates, not a handful
    # structural diversity: distinct shapes once digits and words are folded
    shapes = {re.sub(r"[a-z]+", "w", re.sub(r"\d+", "0", v.lower())) for v in values}
    assert len(shapes) > 0.5 * len(values)
    placeholder = re.compile(
        r"(?<![$'{])\{(n|n2|w|W|tbl|col|col2|domain|host|ip|port|url|file|sub|leak|js|arg|tag|h|q|cmd|scmd|text|word|num)\}"
    )
    assert not any(placeholder.search(v) for v in values)  # every template slot was filled


def test_sqli_grammar_covers_techniques_and_dialects() -> None:
    text = "\n".join(s.value.lower() for s in generate_sqli(random.Random(4), 4000))
    for token in (
        "union select", "union all select", "information_schema", "@@version", "version()", "sleep(",
        "benchmark(", "pg_sleep(", "waitfor delay", "dbms_pipe.receive_message", "extractvalue(",
        "updatexml(", "convert(int", "cast(", "xp_cmdshell", "drop table", "case when", "if(", "-- ",
        "#", "/*", "char(", "concat(", "0x", "or 1=1", "sqlite_master", "order by", "having 1=1",
    ):  # fmt: skip
        assert token in text, token


def test_xss_grammar_covers_tags_handlers_and_sinks() -> None:
    text = "\n".join(s.value.lower() for s in generate_xss(random.Random(4), 4000))
    for token in (
        "<script", "<img", "<svg", "<body", "<iframe", "<details", "<video", "<audio", "<input",
        "<a ", "<math", "<object", "<embed", "<marquee", "<select", "<textarea", "<style", "<meta",
        "<base", "<form", "onerror=", "onload=", "ontoggle=", "onfocus", "onpointer", "onanimationstart",
        "javascript:", "data:text/html", "alert(", "prompt(", "confirm(", "eval(atob(", "document.cookie",
        "fetch(", "constructor", "settimeout(", "import(", "${", "\">", "'>",
    ):  # fmt: skip
        assert token in text, token
    handlers = set(re.findall(r"\b(on[a-z]+)\s*=", text))
    assert len(handlers) >= 80


def test_rce_grammar_covers_unix_windows_and_obfuscation() -> None:
    text = "\n".join(s.value for s in generate_rce(random.Random(4), 4000))
    for token in (
        "; ", "|", "||", "&&", "\n", "%0a", "`", "$(", "/etc/passwd", "whoami", "uname -a", "ping -c",
        "nslookup", "curl", "wget", "nc ", "/dev/tcp/", "python", "perl -e", "php -r", "powershell",
        "certutil", "type C:\\", "net user", "ipconfig", "${IFS}", "base64 -d", "<!--#exec",
        "() {", "cmd /c", "^",
    ):  # fmt: skip
        assert token in text, token


def test_other_attacks_are_labelled_attack() -> None:
    samples = generate_other_attacks(random.Random(2), 500)
    assert len(samples) == 500
    assert {s.label for s in samples} == {"attack"}


# --- mutation and encoding ----------------------------------------------------------------------


@pytest.mark.parametrize("vector", sorted(VECTOR_GENERATORS))
def test_mutate_changes_most_payloads(vector: str, payloads) -> None:
    rng = random.Random(8)
    changed = sum(mutate(p, vector, rng, n_ops=3) != p for p in payloads[vector])
    assert changed >= 0.6 * len(payloads[vector])
    assert mutate("anything", "attack", rng) == "anything"


def test_sqli_mutations_keep_structure() -> None:
    rng = random.Random(9)
    assert mutate("1' or 1=1-- ", "sqli", rng, n_ops=0) == "1' or 1=1-- "
    for _ in range(200):
        out = mutate("admin' or 'a'='a'-- ", "sqli", rng, n_ops=3)
        assert out.startswith("admin'")  # the value before the breakout is never touched
        assert (
            out.count("'") % 2 == "admin' or 'a'='a'-- ".count("'") % 2
            or "0x" in out
            or "char(" in out
        )


def test_sqli_mutations_still_detected_by_libinjection() -> None:
    libinjection = pytest.importorskip("libinjection")
    rng = random.Random(10)
    base = [s.value for s in generate_sqli(rng, 600)]
    hits = lambda xs: sum(bool(libinjection.is_sql_injection(x)["is_sqli"]) for x in xs)  # noqa: E731
    mutated = [mutate(p, "sqli", rng, n_ops=3) for p in base]
    assert hits(mutated) >= 0.85 * hits(base)


def _decode(scheme: str, text: str) -> str:
    if scheme in ("url", "url_all"):
        return unquote_plus(text)  # a raw "+" only ever stands for a space
    if scheme == "double_url":
        return unquote_plus(unquote(text))
    if scheme == "u_percent":
        return re.sub(r"%u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    if scheme == "js_unicode":
        text = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), text)
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    if scheme == "js_hex":
        text = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    if scheme.startswith("html"):
        return html.unescape(text)
    if scheme == "base64":
        pad = "=" * (-len(text) % 4)
        return base64.b64decode((text + pad).replace("-", "+").replace("_", "/")).decode()
    raise AssertionError(scheme)


@pytest.mark.parametrize("scheme", [s for s in ENCODING_SCHEMES if s != "mixed"])
def test_encode_round_trips(scheme: str, payloads) -> None:
    rng = random.Random(12)
    for p in payloads["sqli"][:60] + payloads["xss"][:60] + payloads["rce"][:60]:
        out = encode(p, rng, scheme)
        assert out != p
        if scheme.startswith("html") and re.search(r"&[#a-zA-Z]", p):
            continue  # the payload carries its own entities; unescaping would decode those too
        if scheme.startswith("js") and "\\" in p:
            continue
        if scheme in ("url", "url_all", "double_url", "u_percent") and re.search(
            r"%[0-9a-fA-F]{2}|%u", p
        ):
            continue
        assert _decode(scheme, out) == p, (scheme, p, out)


def test_encode_mixed_and_random_scheme(payloads) -> None:
    rng = random.Random(13)
    outs = [encode(p, rng) for p in payloads["xss"][:200]]
    assert sum(o != p for o, p in zip(outs, payloads["xss"][:200], strict=True)) == 200
    assert all(encode(p, rng, "mixed") != p for p in payloads["sqli"][:100])
    with pytest.raises(ValueError):
        encode("x", rng, "rot13")


# --- placement ----------------------------------------------------------------------------------


def _inputs(req: HttpRequest) -> dict[str, str]:
    return {i.location: i.value for i in extract_inputs(req).inputs}


@pytest.mark.parametrize("part", PARTS)
def test_place_every_part_is_recoverable(part: str, payloads) -> None:
    rng = random.Random(14)
    for p in payloads["sqli"][:40] + payloads["xss"][:40] + payloads["rce"][:40]:
        req, loc = place(p, rng, part)
        assert isinstance(req, HttpRequest)
        got = _inputs(req)
        assert loc in got, (part, loc, sorted(got))
        value = got[loc]
        if part == "path_segment":
            assert loc == "path" and p in unquote(value)
        elif part == "cookie":
            assert loc.startswith("cookie:") and unquote(value) == p
        elif part in ("user-agent", "referer", "x-forwarded-for", "custom_header"):
            assert loc.startswith("header:") and header_safe(p) in value
            assert "\n" not in value and "\r" not in value
        elif part == "raw_xml":
            assert loc == "body:raw" and p in value
        elif part == "json" and loc == "body:json:$.query":
            graphql_arg = p.replace("\\", "\\\\").replace('"', '\\"')
            assert value == p or graphql_arg in value  # plain leaf, or a GraphQL string argument
        elif part == "querykey":
            assert value == p[: len(value)] and len(value) >= min(len(p), 128)
        else:
            assert value == p
        if part in ("query", "querykey"):
            pairs = parse_qsl(req.query, keep_blank_values=True)
            assert any(p in (k, v) for k, v in pairs)
        if part == "form":
            assert req.method in ("POST", "PUT", "PATCH")
            assert (loc.split(":", 2)[2], p) in parse_qsl(req.body.decode(), keep_blank_values=True)
            assert req.header(
                "content-type",
            ).startswith("application/x-www-form-urlencoded")
        if part == "json":
            assert req.header("content-type") and "json" in req.header("content-type")
            json.loads(req.body)


def test_place_wire_form_and_pre_encoded_payloads() -> None:
    rng = random.Random(15)
    req, loc = place("%27%20or%201=1--", rng, "query", encode_for_part=False)
    assert _inputs(req)[loc] == "' or 1=1--"
    enc = encode("<svg onload=alert(1)>", rng, "url")
    req, loc = place(enc, rng, "form")
    assert _inputs(req)[loc] == enc  # one decode by the parser yields the pre-encoded payload
    with pytest.raises(ValueError):
        place("x", rng, "nowhere")


def test_place_random_part_and_realistic_surroundings() -> None:
    rng = random.Random(16)
    parts = Counter()
    for _ in range(300):
        req, loc = place("' or 1=1--", rng)
        parts[loc.split(":")[0]] += 1
        assert req.header("host") and req.header("user-agent")
    assert {"query", "body", "cookie", "header", "path"} <= set(parts)


def test_benign_request_is_realistic() -> None:
    rng = random.Random(17)
    reqs = [benign_request(rng) for _ in range(200)]
    assert len({r.uri for r in reqs}) > 170
    assert sum(r.method == "GET" for r in reqs) > 100
    assert sum(bool(r.body) for r in reqs) > 20
    assert sum(r.header("cookie") is not None for r in reqs) > 60
    for r in reqs:
        assert r.header("user-agent")
        if r.body:
            assert r.header("content-type")
        extract_inputs(r)  # parses without error


# --- clean generators ---------------------------------------------------------------------------


def test_benign_values_are_varied() -> None:
    samples = generate_benign(random.Random(18), 3000)
    assert len(samples) == 3000 and {s.label for s in samples} == {"clean"}
    kinds = Counter(s.kind for s in samples)
    assert set(kinds) == {"value", "header", "path", "raw"} and kinds["value"] > 1500
    text = "\n".join(s.value for s in samples)
    assert "'" in text and "Mozilla/5.0" in text and "@" in text and "/" in text


def test_hard_negatives_are_clean_and_hard() -> None:
    samples = generate_hard_negatives(random.Random(19), 3000)
    assert len(samples) == 3000 and {s.label for s in samples} == {"clean"}
    for s in samples:
        low = s.value.lower()
        assert "<script" not in low and "onerror=" not in low and "javascript:" not in low, s.value
    text = "\n".join(s.value for s in samples).lower()
    for token in ("select", "union", "drop", "'", "<p>", "<a href=", "```", "eyj", "cat ", "where"):
        assert token in text, token
    cats = Counter(s.source for s in samples)
    assert len(cats) >= 8


def test_noise_is_clean_token_soup() -> None:
    samples = generate_noise(random.Random(20), 2000)
    assert len(samples) >= 1900 and {s.label for s in samples} == {"clean"}
    assert not any(looks_malicious(s.value) for s in samples)
    text = " ".join(s.value.lower() for s in samples)
    assert "select" in text and "alert" in text and "passwd" in text


# --- corpus -------------------------------------------------------------------------------------


def test_build_corpus_small_scale_has_all_labels_and_is_fast() -> None:
    t0 = time.perf_counter()
    corpus = build_corpus(None, seed=3, scale=0.05)
    assert time.perf_counter() - t0 < 15
    assert all(isinstance(s, Sample) for s in corpus)
    labels = Counter(s.label for s in corpus)
    assert set(labels) == set(LABELS)
    assert 0.5 < labels["clean"] / len(corpus) < 0.7
    assert len(corpus) > 8000
    assert len({(s.value, s.kind) for s in corpus}) == len(corpus)
    sources = Counter(
        s.source.split(":")[2] for s in corpus if s.source.startswith("gen:") and s.label != "clean"
    )
    assert sources["mutated"] > 0.08 * len(corpus) and sources["encoded"] > 0.06 * len(corpus)
    assert corpus == build_corpus(None, seed=3, scale=0.05)


def test_eval_sets_are_labelled_requests() -> None:
    sets = build_eval_sets(seed=5, n_per_set=40)
    assert tuple(sets) == EVAL_SETS
    for name, items in sets.items():
        assert len(items) == 40
        for req, label in items:
            assert isinstance(req, HttpRequest)
            assert label in ("clean", "sqli", "xss", "rce")
            assert extract_inputs(req).inputs
        expected = {
            "clean_requests": {"clean"},
            "clean_hard_negatives": {"clean"},
            "sqli_mutated": {"sqli"},
        }
        if name in expected:
            assert {label for _, label in items} == expected[name]
    assert len({label for _, label in sets["bypass_encoded_any_part"]}) == 3
    assert build_eval_sets(seed=5, n_per_set=5) == build_eval_sets(seed=5, n_per_set=5)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared WAF corpora not available")
def test_load_shared_cleans_the_public_lists() -> None:
    samples = load_shared(SHARED)
    by_source = Counter(s.source for s in samples)
    assert len(by_source) == 14
    values = {s.value.strip() for s in samples if s.label == "sqli"}
    for probe in ("'", ")", "--", "||", "AND 1", "asc"):
        assert probe not in values
    assert all(len(s.value.strip()) > 3 for s in samples if s.label in ("sqli", "xss", "rce"))
    kinds = {(s.source.split("/")[-1], s.label, s.kind) for s in samples}
    assert ("fwaf_badqueries.txt", "attack", "path") in kinds
    assert ("fwaf_goodqueries_more.txt", "clean", "path") in kinds
    assert ("httpparams_norm_values.txt", "clean", "value") in kinds
    assert ("httpparams_path_traversal.txt", "attack", "value") in kinds
    good = [s.value for s in samples if s.source.endswith("goodqueries_more.txt")]
    assert not any("<script" in v.lower() or "../" in v or "/etc/passwd" in v for v in good)


# --- false-positive look-alikes and broader RCE forms -------------------------------------------

FP_CATEGORIES = ("shellvocab", "devqa", "search", "expr", "html", "ua", "oauth")


@pytest.mark.parametrize("category", FP_CATEGORIES)
def test_fp_negatives_deterministic_varied_and_clean(category: str) -> None:
    from bastion.waf.datagen.fpneg import generate_fp_negatives

    samples = generate_fp_negatives(random.Random(31), 1500, category)
    assert samples == generate_fp_negatives(random.Random(31), 1500, category)
    assert samples != generate_fp_negatives(random.Random(32), 1500, category)
    assert len(samples) == 1500 and {s.label for s in samples} == {"clean"}
    values = [s.value for s in samples]
    assert len(set(values)) == len(values)
    # varied: many distinct shapes, not a handful of templates with different fillers
    skeletons = {re.sub(r"[a-z]+", "a", re.sub(r"\d+", "0", v.lower()))[:60] for v in values}
    assert len(skeletons) > 300, len(skeletons)
    assert not any(looks_malicious(v) for v in values)
    for v in values:
        low = v.lower()
        assert "<script" not in low and "javascript:" not in low and "data:" not in low, v
        assert not re.search(r"\son[a-z]+\s*=", low), v
    if category == "ua":
        assert {s.kind for s in samples} == {"header"}
    else:
        assert {s.kind for s in samples} <= {"value", "header", "raw"}


def test_fp_negatives_cover_the_reported_shapes() -> None:
    from bastion.waf.datagen.fpneg import generate_fp_negatives

    samples = generate_fp_negatives(random.Random(33), 8000)
    text = "\n".join(s.value for s in samples)
    for token in (
        " | ", "rm -rf", "chown -R", "ps aux | grep", "```", "render_template", "PreparedStatement", "2>&1",
        "ORDER BY created DESC", "trashed=false", "language:kuery", "$filter=", " eq ", "(&(objectClass",
        "=IF(", "&&", 'loading="lazy"', "srcset=", "<figcaption>", 'rel="noopener"', "cellpadding",
        ".NET CLR", "Trident/", "rv:", "redirect_uri=http://", "127.0.0.1:", "://callback?code=",
    ):  # fmt: skip
        assert token in text, token
    kinds = Counter(s.kind for s in samples)
    assert kinds["value"] > kinds["header"] > 0 and kinds["raw"] > 0
    assert any(s.kind == "raw" and s.value.count("\n") >= 2 and '"' in s.value for s in samples)


def test_rce_extra_forms_are_produced() -> None:
    from bastion.waf.datagen.rce import extra_payload

    rng = random.Random(34)
    out = [extra_payload(rng) for _ in range(4000)]
    rng2 = random.Random(34)
    assert out == [extra_payload(rng2) for _ in range(4000)]
    values = [v for v, _ in out]
    assert len(set(values)) > 3000
    forms = Counter(k.split(":")[1] for _, k in out)
    assert set(forms) == {"glued", "wide", "wsplit", "urlpath", "winx"}
    # glued substitution with no separator onto a plausible value
    assert any(re.search(r"[\w.@]\$\(\w", v) for v in values)
    assert any(re.search(r"[\w.@]`\w", v) for v in values)
    text = "\n".join(values)
    for token in (
        "getent", "killall", "iptables", "docker run", "kubectl", "aws s3 cp", "gcloud", "systemctl", "crontab -l",
        "useradd", "passwd", "mkfifo", "socat", "openssl s_client", "tftp", "scp", "rsync", "tar ", "zip ",
        "base64 -d | sh", "BEGIN{system(", "-exec", "xargs", "for /f %i in", "findstr", "win.ini", "%COMSPEC% /c",
        "powershell -nop -w hidden -c", "cmd.exe /c", "wmic process call create", "$@", '""', "/build", "/repos/",
    ):  # fmt: skip
        assert token in text, token
    assert any(re.search(r"\w'\w'\w", v) for v in values)  # w'h'oami
    assert any(re.search(r"(^|[;|&\n])\w+=\w+;\$\{?\w+", v) for v in values)  # u=id;$u
    # they flow through the grammar (and so the mutation/encoding/placement machinery)
    grammar = generate_rce(random.Random(35), 3000)
    assert sum(s.group.startswith("gen:rce:extra:") for s in grammar) > 300
