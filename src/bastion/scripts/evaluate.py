"""Held-out metrics with bootstrap confidence intervals.

* :func:`cv_report`: the cross-validation of ``bastion scripts train`` (whole families
  and npm packages held out), calibrated by cross-fitting (the calibration of one half
  of the groups is fitted on the other half), so no score threshold is tuned on the
  scripts it is measured on.
* :func:`evaluate_dir`: a model on a labeled directory (``MANIFEST.jsonl`` with ``path``,
  ``label`` and ``family`` like ``shared/datasets/js``, or one sub-directory per label).

Confidence intervals are 95% percentile intervals of a cluster bootstrap that resamples
whole groups (families or packages), since held-out data differs by family.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bastion.scripts.model import HEADS
from bastion.scripts.result import ScriptClass
from bastion.scripts.scorer import verdict

if TYPE_CHECKING:
    from bastion.scripts.datagen.corpus import Item
    from bastion.scripts.scorer import ScriptScorer
    from bastion.scripts.train import CvResult, TrainConfig

LABELS: tuple[ScriptClass, ...] = ("benign", "magecart", "cryptomining", "malware")
BOOTSTRAP = 1000


@dataclass(frozen=True)
class Outcome:
    """One scored script: its truth, group and verdict."""

    label: str
    group: str
    cls: str
    js_integrity: int


def _ci(values: npt.NDArray[np.bool_], groups: Sequence[str], seed: int = 7) -> dict[str, Any]:
    """Rate with a 95% cluster-bootstrap interval over groups."""
    n = len(values)
    if n == 0:
        return {"n": 0, "rate": None, "ci95": None}
    names = sorted(set(groups))
    gi = {g: k for k, g in enumerate(names)}
    gid = np.array([gi[g] for g in groups])
    hits = np.bincount(gid, weights=values.astype(np.float64), minlength=len(names))
    sizes = np.bincount(gid, minlength=len(names)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(BOOTSTRAP, len(names)))
    rates = hits[draws].sum(axis=1) / np.maximum(sizes[draws].sum(axis=1), 1)
    lo, hi = np.percentile(rates, [2.5, 97.5])
    return {
        "n": int(n),
        "groups": len(names),
        "rate": round(float(values.mean()), 5),
        "ci95": [round(float(lo), 5), round(float(hi), 5)],
    }


def metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Recall per malicious class (exact class and any-malicious), benign false positives."""
    out: dict[str, Any] = {}
    for label in LABELS:
        sel = [o for o in outcomes if o.label == label]
        if not sel:
            continue
        groups = [o.group for o in sel]
        if label == "benign":
            out["benign_fp"] = _ci(np.array([o.cls != "benign" for o in sel]), groups)
        else:
            out[f"{label}_recall"] = _ci(np.array([o.cls == label for o in sel]), groups)
            out[f"{label}_detected"] = _ci(np.array([o.cls != "benign" for o in sel]), groups)
    return out


def per_family(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    fams: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.label != "benign":
            fams.setdefault(o.group, []).append(o)
    return {
        g: {
            "n": len(v),
            "class_recall": round(sum(o.cls == o.label for o in v) / len(v), 4),
            "detected": round(sum(o.cls != "benign" for o in v) / len(v), 4),
        }
        for g, v in sorted(fams.items())
    }


def _half(group: str) -> int:
    return zlib.crc32(("half:" + group).encode()) & 1


def cv_report(items: Sequence[Item], cv: CvResult, config: TrainConfig) -> dict[str, Any]:
    """Metrics of the out-of-fold predictions with cross-fitted calibration."""
    from bastion.scripts.train import calibrate_from

    its = [items[i] for i in cv.index]
    half = np.array([_half(it.group) for it in its])
    benign_real = np.array([it.label == "benign" and it.origin == "real" for it in its])
    probs = np.zeros(cv.logits.shape, np.float64)
    for h in (0, 1):
        cx, cy = calibrate_from(cv.logits[benign_real & (half != h)], config)
        sel = half == h
        for k in range(len(HEADS)):
            probs[sel, k] = np.interp(cv.logits[sel, k], cx[k], cy[k])
    verdicts = [verdict(p, "", "js", False) for p in probs]
    by_id = {it.id: v for it, v in zip(its, verdicts, strict=True)}
    real = [
        Outcome(it.label, it.group, v.cls, v.js_integrity)
        for it, v in zip(its, verdicts, strict=True)
        if it.origin == "real"
    ]
    variants = [
        (it, v) for it, v in zip(its, verdicts, strict=True) if it.origin.startswith("variant:")
    ]
    rep: dict[str, Any] = {
        "folds": config.folds,
        "held_out_real": metrics(real),
        "held_out_variants": metrics(
            [Outcome(it.label, it.group, v.cls, v.js_integrity) for it, v in variants]
        ),
        "per_family": per_family(real),
        "obfuscation_consistency": consistency(variants, by_id),
    }
    rep["summary"] = format_summary(rep)
    return rep


def consistency(variants: Iterable[tuple[Item, Any]], by_id: dict[str, Any]) -> dict[str, Any]:
    """Share of (script, transformed script) pairs with the same verdict, per transform."""
    rows: dict[str, list[tuple[bool, str]]] = {}
    for it, v in variants:
        parent = by_id.get(it.parent)
        if parent is None:
            continue
        mode = it.origin.split(":", 1)[1]
        kind = (
            "obfuscated"
            if mode.startswith("obf")
            else "minified"
            if mode in ("minify", "mangle")
            else "wrapped"
        )
        same = parent.cls == v.cls
        for key in (kind, f"{kind}/{'benign' if it.label == 'benign' else 'malicious'}"):
            rows.setdefault(key, []).append((same, it.group))
    return {k: _ci(np.array([s for s, _ in v]), [g for _, g in v]) for k, v in sorted(rows.items())}


def _fmt(m: dict[str, Any] | None) -> str:
    if not m or m.get("rate") is None:
        return "n/a"
    lo, hi = m["ci95"]
    return f"{100 * m['rate']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] (n={m['n']})"


def format_summary(rep: dict[str, Any]) -> str:
    r = rep.get("held_out_real", rep)
    lines = ["held-out (whole families / packages), 95% cluster-bootstrap CI:"]
    for key in (
        "magecart_recall",
        "magecart_detected",
        "cryptomining_recall",
        "cryptomining_detected",
        "malware_recall",
        "malware_detected",
        "benign_fp",
    ):
        if key in r:
            lines.append(f"  {key:22s} {_fmt(r[key])}")
    cons = rep.get("obfuscation_consistency", {})
    for key in ("obfuscated", "obfuscated/benign", "obfuscated/malicious", "minified", "wrapped"):
        if key in cons:
            lines.append(f"  same verdict, {key:18s} {_fmt(cons[key])}")
    return "\n".join(lines)


# ------------------------------------------------------------------ labeled directory


def labeled_files(directory: Path) -> list[tuple[Path, str, str]]:
    """(file, label, group) of a labeled directory."""
    manifest = directory / "MANIFEST.jsonl"
    out: list[tuple[Path, str, str]] = []
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                label = row["label"]
                group = row.get("family") or row.get("package") or label
                out.append((directory / row["path"], label, f"{label}/{group}"))
        return out
    for label in LABELS:
        d = directory / label
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if p.is_file():
                rel = p.relative_to(d).parts
                group = rel[0] if len(rel) > 1 else label
                out.append((p, label, f"{label}/{group}"))
    return out


def evaluate_dir(
    scorer: ScriptScorer, directory: Path, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Metrics of ``scorer`` on a labeled directory; unreadable files count as benign verdicts."""
    from bastion.scripts.source import SourceError

    outcomes: list[Outcome] = []
    for path, label, group in labeled_files(directory):
        try:
            r = scorer.scan_path(path)
            outcomes.append(Outcome(label, group, r.cls, r.js_integrity))
        except (OSError, SourceError):
            outcomes.append(Outcome(label, group, "benign", 99))
    rep: dict[str, Any] = {"held_out_real": metrics(outcomes), "per_family": per_family(outcomes)}
    rep["summary"] = format_summary(rep)
    return rep
