"""Flood of CSP reports against ``bastion serve``: one address floods, another reports
normally; the flood gets 429 and the normal reporter is not hurt.

Starts ``bastion serve`` (real workers, SQLite, the in-process or ``--redis`` limiter) with
``csp_trusted_proxies`` set to loopback so each simulated client is named by
``X-Forwarded-For``. For ``--seconds`` it sends, over keep-alive connections from
``--threads`` threads, reports as fast as it can from 198.51.100.1 (the flood), and one
report every 0.2 s from 198.51.100.2 (a browser). It prints one JSON object: per client,
the count of each status and latency percentiles; and the inventory size afterwards,
which must equal the accepted reports' distinct URLs.

Run: ``.venv/bin/python benchmarks/csp_flood.py [--seconds 10] [--threads 8] [--redis URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bastion.auth import TokenStore
from bastion.store.db import Database

ZONE = "shop.example"
FLOOD_IP = "198.51.100.1"
BROWSER_IP = "198.51.100.2"
_LOCK = threading.Lock()


def _report(i: int) -> bytes:
    return json.dumps(
        {
            "csp-report": {
                "document-uri": f"https://{ZONE}/p/{i % 50}",
                "blocked-uri": f"https://cdn{i % 7}.example/s{i}.js",
                "effective-directive": "script-src-elem",
                "violated-directive": "script-src-elem",
            }
        }
    ).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 2)}


def _client(
    base: str, ip: str, stop: float, pause: float, out: dict[str, Any], offset: int
) -> None:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    headers = {"Content-Type": "application/csp-report", "X-Forwarded-For": ip}
    i = offset
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.monotonic() < stop:
            started = time.perf_counter()
            r = client.post(f"/v1/csp/reports/{ZONE}", content=_report(i), headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[r.status_code] += 1
            i += 1
            if pause:
                time.sleep(pause)
    with _LOCK:
        out.setdefault("statuses", Counter()).update(statuses)
        out.setdefault("latencies", []).extend(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", default=None, help="redis URL: limits shared by workers")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bastion-csp-flood-"))
    url = f"sqlite:///{tmp / 'flood.db'}"
    db = Database(url)
    db.upgrade()
    admin = TokenStore(db).create("bench", ["admin"]).token
    TokenStore(db).create("owner", ["site_owner"], zones=[ZONE])  # makes the zone known
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_PORT": str(port),
        "BASTION_WORKERS": str(args.workers),
        "BASTION_LOG_LEVEL": "warning",
        "BASTION_CSP_TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "BASTION_CSP_FETCH": "false",
        "BASTION_CONTENT_DELIVER": "false",
    }
    if args.redis:
        env["BASTION_REDIS_URL"] = args.redis
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "bastion", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit((tmp / "server.log").read_text())
            time.sleep(0.1)
        flood: dict[str, Any] = {}
        browser: dict[str, Any] = {}
        stop = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=_client, args=(base, FLOOD_IP, stop, 0.0, flood, n * 10**6))
            for n in range(args.threads)
        ]
        threads.append(
            threading.Thread(target=_client, args=(base, BROWSER_IP, stop, 0.2, browser, 9 * 10**8))
        )
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        r = httpx.get(
            f"{base}/v1/csp/zones/{ZONE}/resources",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {admin}"},
        )
        listed = len(r.json()["resources"])
        result = {
            "seconds": round(elapsed, 2),
            "workers": args.workers,
            "limiter": "redis" if args.redis else "in-process (per worker share)",
            "limits": {"per_address": "10/s, burst 100", "per_zone": "500/s, burst 2000"},
            "flood": {
                "requests": sum(flood["statuses"].values()),
                "requests_per_s": round(sum(flood["statuses"].values()) / elapsed),
                "statuses": dict(sorted(flood["statuses"].items())),
                **_percentiles(flood["latencies"]),
            },
            "browser": {
                "requests": sum(browser["statuses"].values()),
                "statuses": dict(sorted(browser["statuses"].items())),
                **_percentiles(browser["latencies"]),
            },
            "inventory_resources": listed,
            "accepted_reports": flood["statuses"][202] + browser["statuses"][202],
        }
        print(json.dumps(result, indent=2))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


if __name__ == "__main__":
    main()
