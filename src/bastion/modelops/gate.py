"""The promotion gate: a candidate WAF model must not regress on the evaluation suites.

Suites (the Python parts of ``benchmarks/waf_eval_all.sh``): the generated sets of
``bastion waf gen-eval`` (seed 7, held out from training by seed) and the hand-written
``benchmarks/handmade`` sets (WAF-bypass corpora per vector, hard negatives, real clean
queries) when the checkout has them. For every set, clean sets compare the false-positive
rate at global score <= 20 and attack sets the detection rate at global score <= 20; the
gate fails when the candidate is worse than the active model by more than ``tolerance``
(absolute) on any set, and the report names each regression.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The hand-written suites, present in a source checkout.
HANDMADE = Path(__file__).resolve().parents[3] / "benchmarks" / "handmade"


def _write_generated(directory: Path, seed: int, n: int) -> Path:
    from bastion.waf.datagen import build_eval_sets

    directory.mkdir(parents=True, exist_ok=True)
    for name, items in build_eval_sets(seed, n).items():
        with open(directory / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for request, label in items:
                f.write(json.dumps({**request.to_json(), "label": label}) + "\n")
    return directory


def _rates(scorer: Any, directory: Path) -> dict[str, tuple[str, float, int]]:
    from bastion.waf.evaluate import evaluate_dir

    result = evaluate_dir(scorer, directory)
    out: dict[str, tuple[str, float, int]] = {}
    for report in result.sets:
        metrics = report.metrics
        if "fpr@global<=20" in metrics and "detect@global<=20" not in metrics:
            rate = metrics["fpr@global<=20"]
            out[report.name] = ("fpr@global<=20", rate.rate, rate.n)
        elif "detect@global<=20" in metrics:
            rate = metrics["detect@global<=20"]
            out[report.name] = ("detect@global<=20", rate.rate, rate.n)
    return out


def evaluate_gate(
    active: bytes,
    candidate: bytes,
    workdir: Path,
    *,
    tolerance: float = 0.005,
    generated_n: int = 400,
    suites: list[Path] | None = None,
) -> dict[str, Any]:
    """Compare ``candidate`` with ``active`` on every suite; ``report["passed"]`` decides."""
    from bastion.waf.model import Model, ModelWeights, version_of
    from bastion.waf.scorer import Scorer

    def scorer_from_bytes(data: bytes) -> Scorer:
        return Scorer(Model(ModelWeights.from_bytes(data), version_of(data)))

    dirs = (
        suites if suites is not None else [_write_generated(workdir / "generated", 7, generated_n)]
    )
    if suites is None and HANDMADE.is_dir():
        dirs.append(HANDMADE)
    a, c = scorer_from_bytes(active), scorer_from_bytes(candidate)
    rows = []
    regressions = []
    for directory in dirs:
        ra, rc = _rates(a, directory), _rates(c, directory)
        for name in sorted(ra.keys() & rc.keys()):
            metric, before, n = ra[name]
            after = rc[name][1]
            worse = after - before if metric.startswith("fpr") else before - after
            row = {
                "suite": f"{directory.name}/{name}",
                "metric": metric,
                "n": n,
                "active": round(before, 5),
                "candidate": round(after, 5),
                "regression": round(worse, 5),
            }
            rows.append(row)
            if worse > tolerance:
                regressions.append(row)
    summary = (
        "no suite regresses beyond the tolerance"
        if not regressions
        else "; ".join(
            f"{r['suite']} {r['metric']} {r['active']:.4f} -> {r['candidate']:.4f}"
            for r in regressions
        )
    )
    return {
        "active": a.version,
        "candidate": c.version,
        "tolerance": tolerance,
        "passed": not regressions,
        "summary": summary,
        "suites": rows,
        "regressions": regressions,
    }
