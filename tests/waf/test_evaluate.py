"""Tests of the offline evaluation engine with a fake scorer whose scores are known."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bastion.waf.evaluate import (
    LABELS,
    EvalResult,
    Rate,
    ScorerLike,
    evaluate_dir,
    evaluate_lines,
    format_summary,
    roc_curve,
    summary_markdown,
    wilson_interval,
    write_report,
)
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult


class FakeScorer:
    """Scores from the URI: ``attack-<vector>`` is flagged on that head (5) and globally (10);
    ``suspect`` is likely_attack (40) on sqli and global; ``unscored`` gives 100; ``boom``
    raises; anything else is clean (95)."""

    version = "fake-1"

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def _one(self, request: HttpRequest) -> WafResult:
        uri = request.uri
        if "boom" in uri:
            raise RuntimeError("scorer failure")
        if "unscored" in uri:
            return WafResult.unscored()
        heads = {"sqli": 95, "xss": 95, "rce": 95}
        score = 95
        for vector in heads:
            if f"attack-{vector}" in uri:
                heads[vector] = 5
                score = 10
        if "suspect" in uri:
            heads["sqli"] = 40
            score = 40
        return WafResult(score=score, **heads)

    def score(self, request: HttpRequest, *, explain: bool = False) -> WafResult:
        return self._one(request)

    def score_batch(
        self, requests: Sequence[HttpRequest], *, explain: bool = False
    ) -> list[WafResult]:
        self.batch_sizes.append(len(requests))
        return [self._one(r) for r in requests]


def _line(uri: str, label: str, **extra: Any) -> str:
    obj: dict[str, Any] = {
        "method": "GET",
        "uri": uri,
        "headers": [["Host", "example.com"]],
        "body": None,
        "label": label,
    }
    obj.update(extra)
    return json.dumps(obj)


MALFORMED = [
    "{not json",
    _line("/", "spam"),  # unknown label
    "[1, 2]",  # not an object
    json.dumps({"method": "GET", "uri": 5, "label": "clean"}),  # RequestFormatError
    json.dumps({"method": "GET", "uri": "/"}),  # no label
]


@pytest.fixture()
def eval_dir(tmp_path: Path) -> Path:
    """clean.jsonl: 100 clean (3 flagged, 4 likely_attack) + 6 malformed lines + a blank line;
    attacks/sqli.jsonl: 20 sqli (15 on the sqli head, 2 on the xss head, 3 missed);
    attacks/xss.jsonl: 10 xss, all caught."""
    root = tmp_path / "sets"
    (root / "attacks").mkdir(parents=True)
    clean = (
        [_line("/attack-sqli?x=1", "clean")] * 3
        + [_line("/suspect", "clean")] * 4
        + [_line(f"/page/{i}?q=hello", "clean") for i in range(93)]
    )
    lines = clean[:50] + MALFORMED + [""] + clean[50:]
    data = ("\n".join(lines) + "\n").encode() + b'{"uri": "/\xff", "label": "clean"}\n'
    (root / "clean.jsonl").write_bytes(data)
    sqli = (
        [_line("/attack-sqli", "sqli")] * 15
        + [_line("/attack-xss", "SQLi")] * 2
        + [_line("/search?q=x", "sqli")] * 3
    )
    (root / "attacks" / "sqli.jsonl").write_text("\n".join(sqli) + "\n")
    (root / "attacks" / "xss.jsonl").write_text("\n".join([_line("/attack-xss", "xss")] * 10))
    (root / "notes.txt").write_text("not a set")
    return root


@pytest.fixture()
def result(eval_dir: Path) -> EvalResult:
    return evaluate_dir(FakeScorer(), eval_dir, chunk_size=16)


def _set(result: EvalResult, name: str) -> Any:
    return next(s for s in result.sets if s.name == name)


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Newcombe (1998), Stat. Med. 17:857, Table I, method 3 (Wilson, no continuity corr.)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_interval_matches_published_values(k: int, n: int, lo: float, hi: float) -> None:
    got_lo, got_hi = wilson_interval(k, n)
    assert got_lo == pytest.approx(lo, abs=5e-5)
    assert got_hi == pytest.approx(hi, abs=5e-5)


def test_wilson_interval_edge_cases() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        Rate.of(0, 0)


def test_roc_curve_auc_equals_mann_whitney() -> None:
    # decision values: positives 95, 90, 40; negatives 10, 5, 90 -> 7.5 of 9 pairs won
    curve = roc_curve("sqli", "sqli", np.array([5, 10, 60]), np.array([90, 95, 10]))
    assert curve.auc == pytest.approx(7.5 / 9)
    assert (curve.fpr[0], curve.tpr[0]) == (0.0, 0.0)
    assert (curve.fpr[-1], curve.tpr[-1]) == (1.0, 1.0)
    assert curve.fpr == sorted(curve.fpr) and curve.tpr == sorted(curve.tpr)
    assert curve.thresholds[1:] == [95, 90, 40, 10, 5]
    empty = roc_curve("rce", "rce", np.array([], dtype=np.int64), np.array([50]))
    assert empty.auc is None and empty.fpr == []


# --------------------------------------------------------------------------- engine


def test_sets_are_found_recursively_and_named_by_relative_path(result: EvalResult) -> None:
    assert [s.name for s in result.sets] == ["attacks/sqli", "attacks/xss", "clean"]
    assert result.scorer_version == "fake-1"
    assert result.n_requests == 130


def test_clean_set_false_positive_rates(result: EvalResult) -> None:
    clean = _set(result, "clean")
    assert clean.n == 100
    assert clean.label_counts == {"clean": 100, "sqli": 0, "xss": 0, "rce": 0}
    assert set(clean.metrics) == {"fpr@global<=20", "fpr@global<=50"}
    fpr20 = clean.metrics["fpr@global<=20"]
    assert (fpr20.k, fpr20.n, fpr20.rate) == (3, 100, 0.03)
    assert (fpr20.ci_low, fpr20.ci_high) == pytest.approx((0.0103, 0.0845), abs=5e-5)
    fpr50 = clean.metrics["fpr@global<=50"]
    assert (fpr50.k, fpr50.n) == (7, 100)
    assert (fpr50.ci_low, fpr50.ci_high) == pytest.approx((0.0343, 0.1375), abs=5e-5)


def test_attack_set_detection_rates(result: EvalResult) -> None:
    sqli = _set(result, "attacks/sqli")
    assert sqli.n == 20 and sqli.label_counts["sqli"] == 20  # label matched case-insensitively
    assert set(sqli.metrics) == {"detect@global<=20", "detect@own_head<=20"}
    glob = sqli.metrics["detect@global<=20"]
    own = sqli.metrics["detect@own_head<=20"]
    assert (glob.k, glob.n) == (17, 20)
    assert (glob.ci_low, glob.ci_high) == pytest.approx((0.6396, 0.9476), abs=5e-5)
    assert (own.k, own.n) == (15, 20)
    assert (own.ci_low, own.ci_high) == pytest.approx((0.5313, 0.8881), abs=5e-5)
    xss = _set(result, "attacks/xss")
    assert xss.metrics["detect@own_head<=20"].rate == 1.0
    assert xss.metrics["detect@own_head<=20"].ci_high == 1.0


def test_overall_metrics_split_by_vector(result: EvalResult) -> None:
    overall = result.overall
    assert overall.n == 130
    assert overall.metrics["fpr@global<=20"].k == 3
    assert (overall.metrics["detect@global<=20"].k, overall.metrics["detect@global<=20"].n) == (
        27,
        30,
    )
    assert overall.metrics["detect[sqli]@sqli<=20"].k == 15
    assert overall.metrics["detect[xss]@xss<=20"].k == 10
    assert "detect[rce]@rce<=20" not in overall.metrics


def test_confusion_matrix(result: EvalResult) -> None:
    assert LABELS == ("clean", "sqli", "xss", "rce")
    assert result.overall.confusion == [
        [97, 3, 0, 0],  # 3 clean requests flagged as sqli; "suspect" (40) stays clean
        [3, 15, 2, 0],
        [0, 0, 10, 0],
        [0, 0, 0, 0],
    ]
    assert _set(result, "attacks/sqli").confusion[1] == [3, 15, 2, 0]


def test_malformed_lines_are_counted_with_line_numbers(result: EvalResult) -> None:
    clean = _set(result, "clean")
    assert clean.n_malformed == 6
    assert result.n_malformed == 6
    assert [m.line for m in clean.malformed] == [51, 52, 53, 54, 55, 107]
    reasons = [m.reason for m in clean.malformed]
    assert reasons[0].startswith("invalid JSON")
    assert "unknown label" in reasons[1]
    assert "JSON object" in reasons[2]
    assert "'uri'" in reasons[3]
    assert "label" in reasons[4]
    assert "UTF-8" in reasons[5]
    assert _set(result, "attacks/sqli").n_malformed == 0


def test_histograms(result: EvalResult) -> None:
    hist = _set(result, "clean").histograms
    assert set(hist) == {"sqli", "xss", "rce", "global"}
    assert all(len(h) == 100 for h in hist.values())
    glob = hist["global"]
    assert (glob[10 - 1], glob[40 - 1], glob[95 - 1], sum(glob)) == (3, 4, 93, 100)
    assert (hist["sqli"][5 - 1], hist["sqli"][40 - 1], hist["sqli"][95 - 1]) == (3, 4, 93)


def test_roc_per_vector(result: EvalResult) -> None:
    by_key = {(c.vector, c.head): c for c in result.roc}
    sqli = by_key["sqli", "sqli"]
    assert (sqli.n_pos, sqli.n_neg) == (20, 100)
    # positives: 15 at decision 95, 5 at 5; negatives: 3 at 95, 4 at 60, 93 at 5
    assert sqli.auc == pytest.approx((15 * (97 + 1.5) + 5 * 46.5) / 2000)
    assert by_key["xss", "xss"].auc == pytest.approx(1.0)
    assert by_key["rce", "rce"].auc is None and by_key["rce", "rce"].n_pos == 0


def test_chunking_does_not_change_results(eval_dir: Path) -> None:
    small, large = FakeScorer(), FakeScorer()
    a = evaluate_dir(small, eval_dir, chunk_size=7)
    b = evaluate_dir(large, eval_dir, chunk_size=1000)
    assert max(small.batch_sizes) == 7 and sum(small.batch_sizes) == 130
    assert large.batch_sizes == [20, 10, 100]
    assert a.to_json()["overall"] == b.to_json()["overall"]


def test_scorer_errors_fall_back_to_single_scoring() -> None:
    lines = [_line("/attack-rce", "rce").encode(), _line("/boom", "rce").encode()]
    lines += [_line("/unscored", "clean").encode(), _line("/", "clean").encode()]
    res = evaluate_lines(FakeScorer(), [("inline", lines)])
    s = res.sets[0]
    assert (s.n, s.n_score_errors, s.n_unscored) == (3, 1, 1)
    assert s.metrics["detect@own_head<=20"].k == 1
    assert s.confusion[3] == [0, 0, 0, 1]


def test_wrong_result_count_is_an_error() -> None:
    class Short(FakeScorer):
        def score_batch(
            self, requests: Sequence[HttpRequest], *, explain: bool = False
        ) -> list[WafResult]:
            return super().score_batch(requests)[:-1]

    with pytest.raises(RuntimeError, match="returned 1 results for 2"):
        evaluate_lines(Short(), [("x", [_line("/", "clean").encode()] * 2)])


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        evaluate_dir(FakeScorer(), tmp_path / "nope")
    with pytest.raises(ValueError, match=r"no \*\.jsonl"):
        evaluate_dir(FakeScorer(), tmp_path)


def test_single_file_is_one_set(eval_dir: Path) -> None:
    res = evaluate_dir(FakeScorer(), eval_dir / "attacks" / "xss.jsonl")
    assert [s.name for s in res.sets] == ["xss"] and res.n_requests == 10


def test_fake_scorer_follows_protocol() -> None:
    scorer: ScorerLike = FakeScorer()
    assert scorer.version == "fake-1"


# --------------------------------------------------------------------------- rendering


def test_format_summary_and_markdown(result: EvalResult) -> None:
    text = format_summary(result)
    assert "130 requests in 3 set(s), 6 malformed line(s)" in text
    assert re.search(r"clean\s+100\s+fpr@global<=20\s+3\.00% \(3/100\)\s+\[1\.03%, 8\.45%\]", text)
    assert "warning: clean: 6 malformed line(s)" in text
    md = summary_markdown(result)
    assert "| set | n | metric | rate | 95% CI |" in md
    assert "| attacks/sqli | 20 | detect@global<=20 | 85.00% (17/20) | [63.96%, 94.76%] |" in md
    assert "| sqli | 3 | 15 | 2 | 0 |" in md


def test_write_report(result: EvalResult, tmp_path: Path) -> None:
    out = tmp_path / "report"
    html_path = write_report(result, out)
    assert html_path == out / "report.html"
    data = json.loads((out / "report.json").read_text())
    assert data["n_requests"] == 130 and data["n_malformed"] == 6
    clean = next(s for s in data["sets"] if s["name"] == "clean")
    assert clean["metrics"]["fpr@global<=20"]["k"] == 3
    assert clean["metrics"]["fpr@global<=20"]["ci95"] == pytest.approx([0.0103, 0.0845], abs=5e-5)
    assert data["overall"]["confusion"]["matrix"][1] == [3, 15, 2, 0]
    assert "| clean | 100 | fpr@global<=50 | 7.00% (7/100) |" in (out / "summary.md").read_text()

    pngs = sorted(p.name for p in (out / "charts").glob("*.png"))
    assert pngs == [
        "hist_attacks_sqli.png",
        "hist_attacks_xss.png",
        "hist_clean.png",
        "roc_rce.png",
        "roc_sqli.png",
        "roc_xss.png",
    ]
    page = html_path.read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == len(pngs)
    assert all(base64.b64decode(img).startswith(b"\x89PNG\r\n\x1a\n") for img in images)
    assert (out / "charts" / "roc_sqli.png").read_bytes() in {base64.b64decode(i) for i in images}
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", page)
    assert "<td>fpr@global&lt;=20</td>" in page


def test_scoring_does_not_import_matplotlib(eval_dir: Path) -> None:
    code = f"""
import sys
sys.path[:0] = {sys.path!r}
from bastion.waf.evaluate import evaluate_dir
from bastion.waf.result import WafResult

class Clean:
    version = "v"
    def score(self, request, *, explain=False):
        return WafResult(95, 95, 95, 95)
    def score_batch(self, requests, *, explain=False):
        return [WafResult(95, 95, 95, 95) for _ in requests]

assert evaluate_dir(Clean(), {str(eval_dir)!r}).n_requests == 130
assert "matplotlib" not in sys.modules, "matplotlib was imported"
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
