"""The C pipeline (``Scorer`` with ``native=True``) against the Python loop it replaces.

Both use the same C forward pass, so results must be identical: scores of every head,
explanations and the ``truncated`` flag, on generated traffic and on hostile requests.
"""

from __future__ import annotations

import json
import random
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.waf import HttpRequest, datagen
from bastion.waf.inputs import InputLimits, extract_inputs
from bastion.waf.model import Model
from bastion.waf.scorer import MAX_TEXT_PER_REQUEST, Scorer, is_inert

fastpath = pytest.importorskip("bastion.waf._fastpath")

SMALL_LIMITS = InputLimits(
    max_inputs=5, max_body_bytes=300, max_value_chars=40, max_json_depth=3, max_uri_chars=120
)


@pytest.fixture(scope="module")
def model() -> Model:
    loaded = Model.load()
    if not loaded.accelerated:
        pytest.skip("C accelerator not built")
    return loaded


@pytest.fixture(scope="module")
def pair(model: Model) -> tuple[Scorer, Scorer]:
    """(C pipeline, Python loop), both without a cache."""
    native = Scorer(model, cache_size=0)
    assert native.native
    return native, Scorer(model, cache_size=0, native=False)


@pytest.fixture(scope="module")
def small_pair(model: Model) -> tuple[Scorer, Scorer]:
    return Scorer(model, SMALL_LIMITS, cache_size=0), Scorer(
        model, SMALL_LIMITS, cache_size=0, native=False
    )


def same_inputs(scorer: Scorer, request: HttpRequest) -> bool:
    """Whether the C extraction found exactly the inputs of extract_inputs; True if so."""
    got, truncated, _ = scorer._native.extract(request)
    want = extract_inputs(request, scorer.limits)
    assert got == [tuple(i) for i in want.inputs], request
    assert truncated == want.truncated, request
    return True


def same_scores(pair: tuple[Scorer, Scorer], requests: list[HttpRequest]) -> None:
    native, python = pair
    for explain in (False, True):
        assert native.score_batch(requests, explain=explain) == python.score_batch(
            requests, explain=explain
        )


# --------------------------------------------------------------------------- generated traffic


@pytest.fixture(scope="module")
def corpus() -> list[HttpRequest]:
    rng = random.Random(4)
    requests = [datagen.benign_request(rng) for _ in range(500)]
    for sets in datagen.build_eval_sets(3, 80).values():
        requests += [r for r, _ in sets]
    return requests


def test_extraction_matches_on_generated_traffic(pair, corpus) -> None:  # type: ignore[no-untyped-def]
    native, _ = pair
    natively = 0
    for request in corpus:
        assert same_inputs(native, request)
        natively += native._native.extract(request)[2]
    assert natively > 0.9 * len(corpus)  # C handles nearly all of it itself


def test_scores_match_on_generated_traffic(pair, corpus) -> None:  # type: ignore[no-untyped-def]
    native, python = pair
    # Batches above and below the size where calibration switches to NumPy.
    for size in (1, 3, 64):
        for i in range(0, len(corpus), size * 4):
            same_scores(pair, corpus[i : i + size])
    assert native.score_batch(corpus, explain=True) == python.score_batch(corpus, explain=True)


def test_small_limits_truncate_alike(small_pair, corpus) -> None:  # type: ignore[no-untyped-def]
    native, _ = small_pair
    for request in corpus[::3]:
        assert same_inputs(native, request)
    same_scores(small_pair, corpus[::3])


# --------------------------------------------------------------------------- hostile requests

_NAMES = [
    "Content-Type", "content-type", "CONTENT-TYPE", "Cookie", "cookie", "Coo\u212aie",
    "User-Agent", "Referer", "Accept", "Accept-Language", "Host", "Origin", "X-Forwarded-For",
    "Sec-Ch-Ua", "sec-fetch-site", "Sec-CH-é", "Content-Length", "Range", "If-None-Match",
    "Traceparent", "Cache-Control", "Priority", "\u0130d", "X-\ud800", "",
]  # fmt: skip
_CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    " application/vnd.api+json ;x", "application/x-www-form-urlencoded", "text/plain",
    "text/xml", "application/xml", "multipart/form-data; boundary=xyz",
    "multipart/form-data", "image/png", "application/octet-stream", "APPLICATION/PDF",
    "application/ｊson", "\xa0text/html", "", ";", "application/graphql",
]  # fmt: skip
_VALUE_PIECES = [
    "%27%20or%201=1--", "%3Cscript%3E", "%u003c", "%C0%AF", "%E0%80%AF", "%ED%A0%80", "%FF",
    "&lt;svg onload=alert(1)&gt;", "&#x3c;", "\\u003c", "\\x3c", "/*!50000select*/",
    "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "JyBvciAxPTEgLS0", "; cat /etc/passwd",
    "../../etc/passwd", "..", "/", "=", "&", "+", ";", "#", "?", "[]", "é", "\ud800", "\x00",
    "İ", "K", "ﬁ", " ", "\t", "\n", "a" * 300,
]  # fmt: skip

values = st.one_of(
    st.lists(st.sampled_from(_VALUE_PIECES), max_size=6).map("".join), st.text(max_size=60)
)
names = st.one_of(
    st.sampled_from(["id", "q", "a[b]", "x.y", "u-v", "n m", "é", "k'", "k\\", "\\'", ""]), values
)
spaces = st.sampled_from(["", " ", "  ", "\t", "\xa0", "\u3000", "\x1c"])
cookie_pieces = st.one_of(
    st.builds(
        lambda a, n, b, c, v, d: a + n + b + "=" + c + v + d,
        spaces,
        names,
        spaces,
        spaces,
        values,
        spaces,
    ),
    values,
    spaces,
)
cookies = st.lists(cookie_pieces, max_size=6).map(";".join)


def _form(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in pairs)


def _multipart(parts: list[tuple[str, str, bytes]]) -> bytes:
    out = b""
    for name, filename, content in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--xyz\r\nContent-Disposition: {disp}\r\n\r\n".encode(errors="surrogatepass")
        out += content + b"\r\n"
    return out + b"--xyz--\r\n"


json_leaves = st.one_of(values, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
json_docs = st.recursive(
    json_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=20,
)


def _deep(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b'"x"' + b"]" * depth
    return b'{"a":' * depth + b'"<svg onload=alert(1)>"' + b"}" * depth


def _json_body(doc: object, ascii_only: bool, junk: str) -> bytes:
    return (json.dumps(doc, ensure_ascii=ascii_only) + junk).encode("utf-8", "surrogatepass")


bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=400),
    st.builds(
        _json_body, json_docs, st.booleans(), st.sampled_from(["", " ", "\n", "x", "\ufeff"])
    ),
    st.builds(
        _deep, st.sampled_from([2, 30, 199, 201, 250, 1500]), st.sampled_from(["list", "obj"])
    ),
    st.sampled_from(
        [
            b"\xef\xbb\xbf{}",
            b'{"a": NaN, "b": 1e999, "c": 123456789012345678901234567890}',
            b'{"a": "\\ud800", "\\udfff": "x"}',
            b'{"k": 1, "k": "<script>"}',
            b" \x0b{",
            b"[1,2",
            b"\xc0\xa2\xc1\x9b1\xc1\x9d",
            b"%3Cscript%3E=1&a=%ZZ&&b",
            b"a=1&a=1&a=2",
        ]
    ),
    st.lists(st.tuples(names, values), max_size=6).map(
        lambda p: _form(p).encode("utf-8", "surrogatepass")
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["a", "f", "é"]), st.sampled_from(["", "x.txt"]), st.binary(max_size=40)
        ),
        max_size=3,
    ).map(_multipart),
)
uris = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda path, pairs, frag: path + "?" + _form(pairs) + frag,
        st.sampled_from(["/", "", "/a/b", "/a/../b", "//x", "/A-b_c.d/", "/%2e%2e/", "/é"]),
        st.lists(st.tuples(names, values), max_size=6),
        st.sampled_from(["", "#frag", "#?x=1"]),
    ),
)
headers = st.lists(
    st.one_of(
        st.tuples(
            st.one_of(st.sampled_from(_NAMES), st.text(max_size=12)),
            st.one_of(values, st.sampled_from(_CONTENT_TYPES), st.text(max_size=80)),
        ),
        st.tuples(st.sampled_from(["Cookie", "cookie", "Coo\u212aie"]), cookies),
    ),
    max_size=8,
)


def _request(
    uri: str, hdrs: list[tuple[str, str]], content_type: str | None, body: bytes
) -> HttpRequest:
    if content_type is not None:
        hdrs = [("Content-Type", content_type), *hdrs]
    return HttpRequest("POST", uri, tuple(hdrs), body)


requests = st.builds(
    _request, uris, headers, st.one_of(st.none(), st.sampled_from(_CONTENT_TYPES)), bodies
)


@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests)
def test_hostile_requests_extract_alike(pair, small_pair, request) -> None:  # type: ignore[no-untyped-def]
    assert same_inputs(pair[0], request)
    assert same_inputs(small_pair[0], request)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(requests, min_size=1, max_size=4))
def test_hostile_requests_score_alike(pair, small_pair, batch) -> None:  # type: ignore[no-untyped-def]
    same_scores(pair, batch)
    same_scores(small_pair, batch)


def test_huge_inputs_are_bounded_and_alike(pair) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    big = [
        HttpRequest("POST", "/u", (("Content-Type", "text/plain"),), rng.randbytes(5 << 20)),
        HttpRequest(
            "POST",
            "/u",
            (("Content-Type", "application/x-www-form-urlencoded"),),
            b"q=" + b"%%25%u%" * 300_000,
        ),
        HttpRequest("POST", "/u", (), b"c=&#x3c;" + b"&#" * 1_000_000),
        HttpRequest("POST", "/u", (("Content-Type", "application/json"),), _deep(100_000, "list")),
        HttpRequest("GET", "/?" + "&".join(f"p{i}=%27{i}" for i in range(5000))),
        HttpRequest("GET", "/", tuple((f"X-H{i}", "<b>" * 7000) for i in range(400))),
        HttpRequest("GET", "/", (("Cookie", "; ".join(f"c{i}=v{i}'" for i in range(20000))),)),
    ]
    native, _ = pair
    for request in big:
        start = time.perf_counter()
        native.score(request)
        assert time.perf_counter() - start < 2.0
    same_scores(pair, big)


def test_request_like_objects_go_through_python(pair) -> None:  # type: ignore[no-untyped-def]
    class Custom(HttpRequest):
        pass

    odd = [
        Custom("GET", "/?q=%27or%201=1--"),
        HttpRequest("GET", "/?q=<script>", [("Cookie", "a=b")]),  # type: ignore[arg-type]
        HttpRequest("POST", "/", (), bytearray(b"q=<svg onload=1>")),  # type: ignore[arg-type]
    ]
    native, python = pair
    for request in odd:
        got, _, natively = native._native.extract(request)
        assert not natively
        assert got == [tuple(i) for i in extract_inputs(request).inputs]
    same_scores(pair, odd)
    with pytest.raises(AttributeError):
        native.score(object())  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        python.score(object())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- cache


def test_cache_never_changes_results(model: Model, corpus) -> None:  # type: ignore[no-untyped-def]
    cold = Scorer(model, cache_size=0, native=False)
    for size in (4, 64, 100_000):
        warm = Scorer(model, cache_size=size)
        for _ in range(2):  # the second pass hits the cache
            assert warm.score_batch(corpus[:300], explain=True) == cold.score_batch(
                corpus[:300], explain=True
            )


def test_cache_hit_exhausting_the_budget_truncates_like_a_miss(model: Model) -> None:
    # 64 distinct cacheable values of normalized length 1024 use the whole text budget; the
    # value after them is not scored, whether the 64 come from the cache or not.
    values = [f"{i:03d}" + "ab" * 510 + "a" for i in range(MAX_TEXT_PER_REQUEST // 1024)]
    uri = "/?" + "&".join(f"p{i}={v}" for i, v in enumerate(values)) + "&z=%3Cscript%3E"
    request = HttpRequest("GET", uri)
    cold = Scorer(model, cache_size=0, native=False).score(request, explain=True)
    assert cold.truncated
    for native in (True, False):
        warm = Scorer(model, cache_size=1000, native=native)
        warm.score(request)
        assert warm.score(request, explain=True) == cold


# --------------------------------------------------------------------------- pieces


@settings(max_examples=800, deadline=None)
@given(
    st.one_of(
        st.text(st.sampled_from("/aZ09_-.é%"), max_size=30),
        st.lists(st.sampled_from(["/", "a", "Z", "0", ".", "..", "_", "-", "é"]), max_size=12).map(
            "".join
        ),
        st.lists(st.text(st.sampled_from("aZ9_-."), max_size=85), max_size=3).map(
            lambda s: "/" + "/".join(s)
        ),
    ),
    st.sampled_from(["path", "value", "header", "raw"]),
)
def test_skip_predicates(text: str, kind: str) -> None:
    from bastion.waf.scorer import _is_plain_raw

    code = {"path": "p", "value": "v", "header": "h", "raw": "r"}[kind]
    plain = (len(text) <= 15 or kind == "path") and _is_plain_raw(text, kind)
    assert fastpath.is_plain_raw(text, code) == plain
    assert fastpath.is_inert(text.lower(), code) == is_inert(text.lower(), kind)


def test_bad_tables_are_rejected(model: Model) -> None:
    from bastion.waf.inputs import native_tables

    engine = model._engine
    sizes = {
        "text_budget": 10, "cache_max_value": 10, "cache_size": 0, "window_chars": 256,
        "window_step": 192, "normalize_max_chars": 8192, "normalize_max_depth": 4,
    }  # fmt: skip
    tables = native_tables()
    del tables["json_scan"]
    with pytest.raises(KeyError, match="json_scan"):
        fastpath.Pipeline(engine, tables, **sizes)
    with pytest.raises(ValueError):
        fastpath.Pipeline(engine, native_tables(), **{**sizes, "window_step": 0})
    with pytest.raises(RuntimeError, match="not initialized"):
        fastpath.Pipeline.__new__(fastpath.Pipeline).score([])


def test_concurrent_batches_score_alike(model: Model, corpus) -> None:  # type: ignore[no-untyped-def]
    # Multipart bodies and JSON numbers call back into Python from C, letting other threads
    # into the same pipeline (and its shared cache) in the middle of a request.
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(9)
    batches = [rng.sample(corpus, 24) for _ in range(24)]
    for batch in batches:
        batch.append(
            HttpRequest(
                "POST",
                "/f",
                (("Content-Type", "multipart/form-data; boundary=xyz"),),
                _multipart([("a", "", b"<svg onload=alert(1)>"), ("f", "x.txt", b"1")]),
            )
        )
        batch.append(
            HttpRequest(
                "POST",
                "/j",
                (("Content-Type", "application/json"),),
                json.dumps({"n": list(range(200)), "q": "' or 1=1--"}).encode(),
            )
        )
    expected = [
        Scorer(model, cache_size=0, native=False).score_batch(b, explain=True) for b in batches
    ]
    shared = Scorer(model, cache_size=64)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads at nearly every chance
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(3):
                got = list(pool.map(lambda b: shared.score_batch(b, explain=True), batches))
                assert got == expected
    finally:
        sys.setswitchinterval(interval)
