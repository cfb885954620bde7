"""Drift monitor bars: detect a new attack family at 5% of traffic within 5 minutes, and
raise no alert over 24 hours of stationary traffic at 1,000 requests/s (time-compressed).

Traffic is made of real requests scored once by the shipped WAF model, then resampled:

* clean: request paths + queries from web logs (``../shared/datasets/waf/benign/fwaf_*``),
  parameter values of normal traffic (``httpparams_norm_values``) placed in query strings,
  and the project's generators (``bastion.waf.datagen``: benign requests and hard
  negatives, eval seed 3);
* a steady background of attacks (0.5% of traffic): SQLi and XSS payloads from the shared
  corpora and generated ones;
* the "new family", absent from the stationary traffic: OS command injection (the shared
  ``rce/*`` payload lists) placed in query parameters.

Each minute draws 60,000 requests (1,000/s) spread over 8 zones with Zipf shares; the
detector (:class:`bastion.modelops.drift.DriftDetector`, default settings, as in the
service) sees per-minute histograms per zone and for all zones together, with the first
60 minutes as reference. Runs: (1) 1,440 stationary minutes (86.4 M requests), every
alarm counted; (2) ``--trials`` shift trials: 30 stationary minutes, then RCE at 5% of
every zone's traffic; time to detect = minutes of shifted traffic until the first alarm.
Run: ``.venv/bin/python benchmarks/drift_bench.py`` (``--shared`` defaults to ../shared).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
PER_MINUTE = 60_000
ZONES = 8
ATTACK_SHARE = 0.005
SHIFT_SHARE = 0.05


def _lines(path: Path, limit: int, rng: random.Random) -> list[str]:
    lines = [x for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x]
    rng.shuffle(lines)
    return lines[:limit]


def build_pools(shared: Path, seed: int) -> dict[str, list[Any]]:
    """Request pools: clean, background attacks, and the new family (RCE)."""
    from bastion.waf.datagen import build_eval_sets
    from bastion.waf.request import HttpRequest

    rng = random.Random(seed)
    waf = shared / "datasets" / "waf"
    q = urllib.parse.quote_plus
    clean: list[HttpRequest] = []
    for name in ("fwaf_goodqueries_more.txt", "fwaf_goodqueries_sample.txt"):
        for line in _lines(waf / "benign" / name, 12000, rng):
            uri = line if line.startswith("/") else "/" + line
            if not any(c in uri for c in " \t\r\n"):
                clean.append(HttpRequest("GET", uri))
    for value in _lines(waf / "benign" / "httpparams_norm_values.txt", 8000, rng):
        clean.append(HttpRequest("GET", f"/shop/search?q={q(value)}&page=1"))
    sets = build_eval_sets(3, 3000)
    clean += [r for r, _ in sets["clean_requests"]] + [r for r, _ in sets["clean_hard_negatives"]]
    attacks: list[HttpRequest] = []
    for vector in ("sqli", "xss"):
        for path in sorted((waf / vector).glob("*.txt")):
            for p in _lines(path, 1500, rng):
                attacks.append(HttpRequest("GET", f"/item?id={q(p)}"))
        attacks += [r for r, _ in sets[vector]]
    family = [
        HttpRequest("GET", f"/tools/ping?host={q(p)}")
        for path in sorted((waf / "rce").glob("*.txt"))
        for p in _lines(path, 5000, rng)
    ]
    return {"clean": clean, "attack": attacks, "family": family}


def score_pools(pools: dict[str, list[Any]]) -> dict[str, npt.NDArray[np.int64]]:
    """(n, 4) score arrays (global, sqli, xss, rce) of each pool, scored once."""
    from bastion.waf import load_scorer

    scorer = load_scorer()
    out = {}
    for name, requests in pools.items():
        rows = []
        for i in range(0, len(requests), 2048):
            for r in scorer.score_batch(requests[i : i + 2048]):
                rows.append((r.score, r.sqli, r.xss, r.rce))
        out[name] = np.asarray(rows, dtype=np.int64)
    return out


class Traffic:
    """Per-minute histograms of resampled scores for every zone and all zones together."""

    def __init__(self, scores: dict[str, npt.NDArray[np.int64]], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.scores = scores
        shares = 1.0 / np.arange(1, ZONES + 1)
        self.zone_p = shares / shares.sum()
        self.names = [f"zone{i}.example" for i in range(ZONES)]

    def minute(self, shift: float = 0.0) -> dict[str, npt.NDArray[np.int64]]:
        n = PER_MINUTE
        kinds = self.rng.choice(3, size=n, p=[1 - ATTACK_SHARE - shift, ATTACK_SHARE, shift])
        rows = np.empty((n, 4), np.int64)
        for k, name in enumerate(("clean", "attack", "family")):
            sel = kinds == k
            count = int(sel.sum())
            if count:
                pool = self.scores[name]
                rows[sel] = pool[self.rng.integers(0, len(pool), count)]
        zones = self.rng.choice(ZONES, size=n, p=self.zone_p)
        # One bincount for every (zone, vector, score) cell.
        idx = (zones[:, None] * 4 + np.arange(4)[None, :]) * 100 + (rows - 1)
        counts = np.bincount(idx.ravel(), minlength=ZONES * 400).reshape(ZONES, 4, 100)
        out = {name: counts[z] for z, name in enumerate(self.names)}
        out["*"] = counts.sum(axis=0)
        return out


def _detector(traffic: Traffic, reference_minutes: int) -> Any:
    from bastion.modelops.drift import DriftDetector

    det = DriftDetector()
    ref: dict[str, npt.NDArray[np.int64]] = {}
    for _ in range(reference_minutes):
        for k, v in traffic.minute().items():
            ref[k] = ref.get(k, 0) + v
    for k, v in ref.items():
        det.set_reference(k, v)
    return det


def stationary_day(scores: dict[str, npt.NDArray[np.int64]], seed: int) -> dict[str, Any]:
    traffic = Traffic(scores, seed)
    det = _detector(traffic, 60)
    alarms = []
    max_ks = max_psi = 0.0
    t0 = time.perf_counter()
    for minute in range(1440):
        events = det.observe(minute, traffic.minute())
        alarms += [e for e in events if e.kind == "raised"]
        reading = det.last
        max_ks = max(max_ks, float(reading.ks.max()))
        max_psi = max(max_psi, float(reading.psi.max()))
    elapsed = time.perf_counter() - t0
    return {
        "minutes": 1440,
        "requests": 1440 * PER_MINUTE,
        "streams": len(det.streams),
        "tests": 1440 * len(det.streams) * 4,
        "alarms": len(alarms),
        "alarm_examples": [e.__dict__ for e in alarms[:3]],
        "max_ks": round(max_ks, 5),
        "max_psi": round(max_psi, 5),
        "elapsed_s": round(elapsed, 1),
        "requests_per_s_simulated": round(1440 * PER_MINUTE / elapsed),
    }


def shift_trial(scores: dict[str, npt.NDArray[np.int64]], seed: int) -> dict[str, Any]:
    traffic = Traffic(scores, seed)
    det = _detector(traffic, 60)
    early = []
    for minute in range(30):
        early += [e for e in det.observe(minute, traffic.minute()) if e.kind == "raised"]
    first: dict[str, int] = {}
    for k in range(1, 16):
        for e in det.observe(30 + k, traffic.minute(SHIFT_SHARE)):
            if e.kind == "raised":
                first.setdefault(e.stream, k)
        if "*" in first and len(first) > ZONES:
            break
    return {"false_alarms_before_shift": len(early), "detected_after_min": first}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--skip-day", action="store_true")
    args = ap.parse_args()
    if not (args.shared / "datasets" / "waf").is_dir():
        sys.exit(f"no datasets/waf under {args.shared}")
    t0 = time.perf_counter()
    pools = build_pools(args.shared, args.seed)
    scores = score_pools(pools)
    prep = time.perf_counter() - t0
    summary = {
        name: {
            "requests": len(s),
            "global<=20": round(float((s[:, 0] <= 20).mean()), 4),
            "rce<=20": round(float((s[:, 3] <= 20).mean()), 4),
        }
        for name, s in scores.items()
    }
    trials = [shift_trial(scores, args.seed + 1 + i) for i in range(args.trials)]
    all_zones = [t["detected_after_min"].get("*") for t in trials]
    per_zone = [m for t in trials for z, m in t["detected_after_min"].items() if z != "*"]
    zones_missed = sum(
        ZONES - (len(t["detected_after_min"]) - ("*" in t["detected_after_min"])) for t in trials
    )
    report: dict[str, Any] = {
        "pools": summary,
        "prepare_s": round(prep, 1),
        "shift": {
            "trials": args.trials,
            "share": SHIFT_SHARE,
            "all_zones_minutes_to_detect": {
                "max": max((m for m in all_zones if m is not None), default=None),
                "missed": sum(m is None for m in all_zones),
                "values": all_zones,
            },
            "per_zone_minutes_to_detect": {
                "max": max(per_zone, default=None),
                "median": float(np.median(per_zone)) if per_zone else None,
                "zone_trials_missed_within_15_min": zones_missed,
            },
            "false_alarms_before_shift": sum(t["false_alarms_before_shift"] for t in trials),
        },
    }
    if not args.skip_day:
        report["stationary_day"] = stationary_day(scores, args.seed + 999)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
