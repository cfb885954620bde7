"""Promotion and rollback under load: no failed request, every worker on the new model in 5 s.

1. Starts ``bastion serve`` (``--workers``, SQLite), registers the shipped WAF model and a
   candidate, promotes the shipped one.
2. Finds the service's maximum rate for ``POST /v1/waf/score`` (one request per call) with
   wrk, then runs wrk at about half that rate (per-connection pause) for the whole test.
3. Meanwhile: promotes the candidate (API, admin token), waits, rolls back; a prober sends
   scoring calls on fresh connections (so they reach every worker) and polls
   ``GET /v1/models/rollout`` (``worker`` = pid, ``worker_revision``) to time when each
   worker serves each revision, and checks the ``model`` of every scoring answer.

Bars: wrk reports no non-2xx answer and no socket error; every worker reaches the new
revision within 5 s of each change; scoring answers name the new model after that.

The candidate: ``--candidate PATH`` (e.g. a small real retrain:
``bastion waf train --scale 0.05 --epochs 1 --out /tmp/cand.npz``), else the shipped
weights re-saved with different metadata (same scores, a different version).
Run: ``.venv/bin/python benchmarks/rollout_bench.py --candidate /tmp/cand.npz``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from service_bench import _free_port, _wait_http, write_corpora, wrk  # noqa: E402


def _resaved_candidate() -> bytes:
    from bastion.waf import model as waf

    weights = waf.ModelWeights.from_bytes(waf.DEFAULT_MODEL_PATH.read_bytes())
    weights.meta = {**weights.meta, "note": "rollout-bench candidate (re-saved)"}
    return weights.to_bytes()


class Prober(threading.Thread):
    """Polls the rollout endpoint and scores on fresh connections; records what it sees."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.revisions: list[tuple[float, int, int]] = []  # (t, worker pid, revision)
        self.models: list[tuple[float, str]] = []
        self.failures: list[str] = []

    def run(self) -> None:
        body = {"uri": "/search?q=1%27%20or%201=1--", "headers": [["host", "shop.example"]]}
        while not self.stop.is_set():
            try:
                with httpx.Client(timeout=10) as c:  # a new connection each round
                    r = c.get(f"{self.base}/v1/models/rollout", headers=self.headers)
                    t = time.monotonic()
                    if r.status_code != 200:
                        self.failures.append(f"rollout {r.status_code}")
                    else:
                        doc = r.json()
                        self.revisions.append((t, doc["worker"], doc["worker_revision"]))
                with httpx.Client(timeout=10) as c:
                    r = c.post(f"{self.base}/v1/waf/score", headers=self.headers, json=body)
                    if r.status_code != 200:
                        self.failures.append(f"score {r.status_code}")
                    else:
                        self.models.append((time.monotonic(), r.json()["model"]))
            except httpx.HTTPError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)


def _spread(prober: Prober, revision: int, since: float, workers: set[int]) -> dict[str, Any]:
    """When each worker first answered with ``revision`` (seconds after ``since``)."""
    first: dict[int, float] = {}
    for t, pid, rev in prober.revisions:
        if rev >= revision and t >= since and pid not in first:
            first[pid] = t - since
    return {
        "workers_seen": len(workers),
        "workers_switched": len(first),
        "max_s": round(max(first.values()), 3) if len(first) == len(workers) else None,
        "per_worker_s": {str(k): round(v, 3) for k, v in sorted(first.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--candidate", type=Path, default=None)
    ap.add_argument("--duration", type=int, default=40, help="Seconds of load during the test.")
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    from bastion.auth.tokens import TokenStore
    from bastion.store.db import Database
    from bastion.store.modelops import ModelRegistry
    from bastion.waf.model import DEFAULT_MODEL_PATH

    candidate = args.candidate.read_bytes() if args.candidate else _resaved_candidate()
    with tempfile.TemporaryDirectory(prefix="rollout-bench-") as tmp_s:
        tmp = Path(tmp_s)
        files = write_corpora(tmp, 2000, 11, 100)
        url = f"sqlite:///{tmp / 'bench.db'}"
        db = Database(url)
        db.upgrade()
        token = TokenStore(db).create("bench", ["admin"]).token
        reg = ModelRegistry(db)
        shipped = reg.register(DEFAULT_MODEL_PATH.read_bytes(), source="shipped", actor="bench")
        cand = reg.register(candidate, source=str(args.candidate or "re-saved"), actor="bench")
        old, new = shipped[0]["version"], cand[0]["version"]
        reg.transition("promote", old, actor="bench", reason="baseline")
        db.dispose()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BASTION_DATABASE_URL": url,
            "BASTION_PORT": str(port),
            "BASTION_WORKERS": str(args.workers),
            "BASTION_LOG_LEVEL": "warning",
            "BASTION_DEFAULT_RATE_LIMIT": "1e9",
            "BASTION_CSP_FETCH": "false",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bastion", "serve"], env=env, start_new_session=True
        )
        try:
            _wait_http(f"{base}/readyz", proc)
            time.sleep(2)
            peak = wrk(
                base,
                files["lua"],
                "api",
                files["api"],
                token=token,
                connections=args.connections,
                duration=8,
            )
            # Half the peak: each connection pauses between calls; one calibration run
            # measures the latency at that rate and corrects the pause for it.
            target = peak["rps"] / 2
            pause_ms = max(1, round(args.connections / target * 1000))
            probe = wrk(
                base,
                files["lua"],
                "api",
                files["api"],
                token=token,
                connections=args.connections,
                duration=5,
                pause_ms=pause_ms,
            )
            # interval = pause + latency; the probe's rate gives its latency at that load.
            latency_ms = args.connections / probe["rps"] * 1000 - pause_ms
            pause_ms = max(1, round(args.connections / target * 1000 - latency_ms))
            result: dict[str, Any] = {}

            def load() -> None:
                result["wrk"] = wrk(
                    base,
                    files["lua"],
                    "api",
                    files["api"],
                    token=token,
                    connections=args.connections,
                    duration=args.duration,
                    pause_ms=pause_ms,
                )

            loader = threading.Thread(target=load)
            prober = Prober(base, token)
            loader.start()
            prober.start()
            time.sleep(args.duration * 0.2)
            h = {"Authorization": f"Bearer {token}"}
            t_promote = time.monotonic()
            r = httpx.post(f"{base}/v1/models/{new}/promote", headers=h, json={"reason": "bench"})
            r.raise_for_status()
            rev_promote = r.json()["revision"]
            time.sleep(args.duration * 0.35)
            t_back = time.monotonic()
            r = httpx.post(f"{base}/v1/models/rollback", headers=h, json={"reason": "bench"})
            r.raise_for_status()
            rev_back = r.json()["revision"]
            loader.join()
            prober.stop.set()
            prober.join()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
    workers = {pid for _, pid, _ in prober.revisions}
    promote = _spread(prober, rev_promote, t_promote, workers)
    back = _spread(prober, rev_back, t_back, workers)
    late_old = [m for t, m in prober.models if t_promote + 5 <= t < t_back and m != new]
    late_new = [m for t, m in prober.models if t >= t_back + 5 and m != old]
    load_stats = result["wrk"]
    report = {
        "workers": args.workers,
        "candidate": {"version": new, "source": str(args.candidate or "re-saved shipped weights")},
        "active_before": old,
        "peak_rps": round(peak["rps"]),
        "load": {k: load_stats[k] for k in ("requests", "non2xx", "errors", "p50_us", "p99_us")}
        | {"rps": round(load_stats["rps"]), "pause_ms": pause_ms},
        "promote": promote,
        "rollback": back,
        "prober_scoring_calls": len(prober.models),
        "answers_on_old_model_5s_after_promote": len(late_old),
        "answers_on_new_model_5s_after_rollback": len(late_new),
        "prober_failures": prober.failures[:5],
    }
    ok = (
        load_stats["non2xx"] == 0
        and load_stats["errors"] == 0
        and not prober.failures
        and promote["max_s"] is not None
        and promote["max_s"] <= 5
        and back["max_s"] is not None
        and back["max_s"] <= 5
        and not late_old
        and not late_new
    )
    report["bars_met"] = ok
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
