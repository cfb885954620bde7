"""The shipped model: loading, equivalence of the C and NumPy paths, robustness."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.waf import HttpRequest, load_scorer
from bastion.waf.model import DEFAULT_MODEL_PATH, Model, ModelError, ModelWeights, version_of
from bastion.waf.result import UNSCORED


@pytest.fixture(scope="module")
def scorer():  # type: ignore[no-untyped-def]
    return load_scorer()


def test_model_loads_under_a_second_and_version_is_content_hash() -> None:
    t0 = time.perf_counter()
    model = Model.load()
    assert time.perf_counter() - t0 < 1.0
    assert model.version == version_of(DEFAULT_MODEL_PATH.read_bytes())
    assert DEFAULT_MODEL_PATH.stat().st_size <= 20 * 1024 * 1024


def test_c_forward_matches_numpy_reference() -> None:
    model = Model.load()
    if not model.accelerated:
        pytest.skip("C accelerator not built")
    texts = ["1' union select 1,2-- -", "<svg onload=alert(1)>", "; cat /etc/passwd", "hello", ""]
    kinds = bytes([ord("v"), ord("h"), ord("v"), ord("p"), ord("r")])
    fast = model.logits(texts, kinds)
    ref = model.logits_reference(texts, kinds)
    np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-4)


def test_featurizer_mismatch_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    weights = ModelWeights.from_bytes(DEFAULT_MODEL_PATH.read_bytes())
    weights.meta["featurizer"] = "something-else"
    path = tmp_path / "m.npz"
    path.write_bytes(weights.to_bytes())
    with pytest.raises(ModelError, match="featurizer"):
        Model.load(path)


def test_corrupt_model_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.npz"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        Model.load(path)
    with pytest.raises(ModelError, match="cannot read"):
        Model.load(tmp_path / "missing.npz")


def test_serialization_is_deterministic() -> None:
    data = DEFAULT_MODEL_PATH.read_bytes()
    assert ModelWeights.from_bytes(data).to_bytes() == data


def test_clear_attacks_and_clean_requests(scorer) -> None:  # type: ignore[no-untyped-def]
    attack = scorer.score(
        HttpRequest("GET", "/item?id=1%27%20union%20select%20password%20from%20users--")
    )
    assert attack.sqli <= 20 and attack.score <= 20
    xss = scorer.score(HttpRequest("GET", "/q?s=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert xss.xss <= 20
    rce = scorer.score(HttpRequest("GET", "/ping?ip=8.8.8.8;cat%20/etc/passwd"))
    assert rce.rce <= 20
    clean = scorer.score(HttpRequest("GET", "/search?q=blue+running+shoes&page=2"))
    assert clean.score > 50 and clean.sqli > 50 and clean.xss > 50 and clean.rce > 50


def test_nothing_to_score_is_100(scorer) -> None:  # type: ignore[no-untyped-def]
    result = scorer.score(HttpRequest("GET", "/"))
    assert result.score == UNSCORED and result.cls == "unscored"


def test_explanation_names_part_and_decoded_text(scorer) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"user": "bob", "comment": "<img src=x onerror=alert(1)>"}).encode()
    req = HttpRequest("POST", "/c", (("Content-Type", "application/json"),), body)
    result = scorer.score(req, explain=True)
    assert result.explanations is not None
    assert result.explanations["xss"].location == "body:json:$.comment"
    assert "onerror" in result.explanations["xss"].snippet


def test_encoded_attack_in_header_is_found(scorer) -> None:  # type: ignore[no-untyped-def]
    req = HttpRequest("GET", "/", (("User-Agent", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),))
    result = scorer.score(req, explain=True)
    assert result.xss <= 20
    assert result.explanations is not None
    assert result.explanations["xss"].location == "header:user-agent"


def test_huge_and_invalid_bodies_are_bounded(scorer) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    bodies = [
        rng.integers(0, 256, 10 * 1024 * 1024, dtype=np.uint8).tobytes(),
        b"%25" * 3_000_000,
        b"&#" * 4_000_000,
        b"\xc0\xaf\xff\xfe" * 2_000_000,
    ]
    for body in bodies:
        req = HttpRequest("POST", "/upload", (("Content-Type", "text/plain"),), body)
        t0 = time.perf_counter()
        result = scorer.score(req)
        assert time.perf_counter() - t0 < 2.0
        assert 1 <= result.score <= 100


@given(
    method=st.text(min_size=1, max_size=8),
    uri=st.text(max_size=300),
    headers=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=200)), max_size=8),
    body=st.binary(max_size=2000),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_request_scores_without_crashing(scorer, method, uri, headers, body) -> None:  # type: ignore[no-untyped-def]
    result = scorer.score(HttpRequest(method, uri, tuple(headers), body))
    for value in (result.score, result.sqli, result.xss, result.rce):
        assert 1 <= value <= 100


def test_batch_equals_single(scorer) -> None:  # type: ignore[no-untyped-def]
    reqs = [
        HttpRequest("GET", "/a?x=1%27or%271%27=%271"),
        HttpRequest("GET", "/"),
        HttpRequest("GET", "/b?y=hello+world", (("Referer", "https://example.com/"),)),
    ]
    assert scorer.score_batch(reqs) == [scorer.score(r) for r in reqs]


def test_small_and_large_batch_paths_agree(scorer) -> None:  # type: ignore[no-untyped-def]
    import random

    from bastion.waf import datagen

    rng = random.Random(3)
    reqs = [datagen.benign_request(rng) for _ in range(40)]
    reqs += [datagen.place("1' or 1=1-- -", rng)[0] for _ in range(10)]
    big = scorer.score_batch(reqs, explain=True)  # many windows: NumPy path
    small = [scorer.score(r, explain=True) for r in reqs]  # few windows: Python path
    assert big == small


def test_python_calibration_matches_numpy() -> None:
    weights = ModelWeights.from_bytes(DEFAULT_MODEL_PATH.read_bytes())
    xs = np.linspace(-30, 30, 2001).astype(np.float32)
    logits = np.stack([xs] * 4, axis=1)
    vectorized = weights.calibrate(logits)
    for h in range(4):
        single = [weights.probability(h, float(x)) for x in xs]
        np.testing.assert_allclose(single, vectorized[:, h], rtol=1e-6, atol=1e-9)


def test_cached_values_give_the_same_scores_and_respect_the_budget() -> None:
    import random

    from bastion.waf import datagen
    from bastion.waf.scorer import MAX_TEXT_PER_REQUEST

    rng = random.Random(11)
    reqs = [datagen.benign_request(rng) for _ in range(30)]
    reqs += [datagen.place("<svg onload=alert(1)>", rng)[0] for _ in range(10)]
    cold = load_scorer(cache_size=0)
    warm = load_scorer(cache_size=64)
    warm.score_batch(reqs)  # fill the cache
    assert warm.score_batch(reqs, explain=True) == cold.score_batch(reqs, explain=True)
    # Many copies of one value: the per-request text budget applies to cached values too.
    value = "x y " * 250  # 1000 chars, cacheable
    many = "&".join(f"p{i}={value}" for i in range(MAX_TEXT_PER_REQUEST // 900))
    req = HttpRequest("GET", "/?" + many.replace(" ", "+"))
    assert warm.score(req).truncated and cold.score(req).truncated
    assert warm.score(req) == cold.score(req)
