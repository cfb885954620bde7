"""Pipeline fingerprints: committed models load, a changed pipeline is refused by name."""

from __future__ import annotations

import pytest

from bastion.scripts import fingerprint as jsfp
from bastion.scripts import model as js
from bastion.waf import features as F
from bastion.waf import fingerprint as waffp
from bastion.waf import model as waf
from bastion.waf.model import Model, ModelError, ModelWeights


def test_committed_models_load_through_their_fingerprints() -> None:
    # The WAF model (waf-2cdf0e60267f, session 4) records its pipeline; a file written before
    # fingerprints existed (same meta, no "pipeline") goes through the legacy table.
    waf_weights = ModelWeights.from_bytes(waf.DEFAULT_MODEL_PATH.read_bytes())
    assert waf_weights.meta["pipeline"] == waffp.pipeline_fingerprint()
    legacy = {k: v for k, v in waf_weights.meta.items() if k != "pipeline"}
    assert waffp.expected_pipeline(legacy) == waffp.pipeline_fingerprint()
    Model.load()
    js_weights = js.ModelWeights.from_bytes(js.DEFAULT_MODEL_PATH.read_bytes())
    assert jsfp.expected_pipeline(js_weights.meta) == jsfp.pipeline_fingerprint()
    js.Model.load()


def test_recorded_pipeline_wins_over_the_legacy_table() -> None:
    weights = ModelWeights.from_bytes(waf.DEFAULT_MODEL_PATH.read_bytes())
    weights.meta = {**weights.meta, "pipeline": waffp.pipeline_fingerprint()}
    Model(weights, "waf-test", use_c=False)
    weights.meta = {**weights.meta, "pipeline": "0123456789abcdef"}
    with pytest.raises(
        ModelError, match=r"request pipeline .*'0123456789abcdef'.*bastion waf train"
    ):
        Model(weights, "waf-test", use_c=False)


def test_unknown_legacy_featurizer_is_refused_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    weights = ModelWeights.from_bytes(waf.DEFAULT_MODEL_PATH.read_bytes())
    weights.meta = {k: v for k, v in weights.meta.items() if k != "pipeline"}
    monkeypatch.setattr(waffp, "LEGACY_PIPELINES", {})
    with pytest.raises(ModelError, match="no pipeline fingerprint"):
        Model(weights, "waf-test", use_c=False)


def test_a_changed_normalizer_changes_the_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    before = waffp.pipeline_fingerprint()
    waffp.pipeline_fingerprint.cache_clear()
    # A featurizer that behaves differently (one keyword more) is a different pipeline...
    monkeypatch.setattr(F, "featurize", lambda text, kind, bits: [1, 2, 3])
    try:
        changed = waffp.pipeline_fingerprint()
        assert changed != before
        with pytest.raises(ModelError, match="request pipeline"):
            Model.load(use_c=False)
    finally:
        waffp.pipeline_fingerprint.cache_clear()
    monkeypatch.undo()
    assert waffp.pipeline_fingerprint() == before


def test_script_pipeline_change_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    jsfp.pipeline_fingerprint.cache_clear()
    monkeypatch.setattr(jsfp, "PROBES", (b"var a = 1;",))
    try:
        with pytest.raises(js.ModelError, match="script pipeline"):
            js.Model.load()
    finally:
        monkeypatch.undo()
        jsfp.pipeline_fingerprint.cache_clear()
    js.Model.load()
