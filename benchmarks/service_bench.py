"""Load test of ``bastion serve`` with wrk over loopback, and of the edge against a peer.

Measures, on one machine, in one run:

1. ``POST /v1/waf/score`` with one request per call: the highest rate wrk reaches
   (bar: >= 5,000 requests/s), then the latency at about half that rate (bar: p99 < 10 ms);
2. ``POST /v1/waf/score`` with batches: scored requests/s (bar: >= 30,000);
3. with ``--peers``: the same clean/attack requests sent as real HTTP requests to nginx
   (Debian's package) in three set-ups: nginx alone answering 200 (the floor),
   nginx + bastion's ``auth_request`` edge check, and nginx + ModSecurity v3 with the
   OWASP Core Rule Set 3.3.4 at paranoia level 1 (Debian's ``libnginx-mod-http-modsecurity``
   and ``modsecurity-crs``), blocking mode.

Requests come from ``benchmarks/waf_bench.py``'s generator (80% clean, 20% attacks),
``--n`` distinct ones, so the scorer's input cache sees realistic reuse, not one request
repeated. Run: ``.venv/bin/python benchmarks/service_bench.py --peers``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

WRK_LUA = r"""
local reqs = {}
local idx = 0
local pause = 0
local function unhex(s)
  return (s:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end
init = function(args)
  local mode, path, token = args[1], args[2], args[3]
  pause = tonumber(args[4] or "0")
  for line in io.lines(path) do
    if mode == "api" then
      reqs[#reqs + 1] = wrk.format("POST", "/v1/waf/score",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, line)
    else
      local method, uri, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local h = {}
      for k, v in unhex(headers):gmatch("([^\n:]+): ([^\n]*)") do h[k] = v end
      h["Host"] = h["Host"] or "shop.example"
      if body == "" then body = nil else body = unhex(body) end
      reqs[#reqs + 1] = wrk.format(method, unhex(uri), h, body)
    end
  end
  idx = math.random(#reqs)
end
request = function()
  idx = idx % #reqs + 1
  return reqs[idx]
end
delay = function()
  return pause
end
done = function(summary, latency, requests)
  local s = summary
  local e = s.errors
  local p = function(q) return latency:percentile(q) end
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, \"errors\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"p999_us\": %d, " ..
    "\"mean_us\": %.1f, \"max_us\": %d}\n",
    s.requests, s.duration, e.status, e.connect + e.read + e.write + e.timeout,
    p(50), p(90), p(99), p(99.9), latency.mean, latency.max))
end
"""

SENDABLE_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
SKIPPED_HEADERS = {"content-length", "connection", "transfer-encoding", "host"}


def write_corpora(tmp: Path, n: int, seed: int, batch: int) -> dict[str, Path]:
    from waf_bench import build_inputs

    _, inputs = build_inputs(n, seed)
    requests = [r for r, _ in inputs]
    api = tmp / "api.txt"
    with api.open("w") as fh:
        for r in requests:
            fh.write(json.dumps(r.to_json(), separators=(",", ":")) + "\n")
    batches = tmp / "batches.txt"
    with batches.open("w") as fh:
        for i in range(0, len(requests) - batch + 1, batch):
            chunk = [r.to_json() for r in requests[i : i + batch]]
            fh.write(json.dumps({"requests": chunk}, separators=(",", ":")) + "\n")
    raw = tmp / "raw.txt"
    with raw.open("w") as fh:
        for r in requests:
            host = r.header("host") or "shop.example"
            headers = [(k, v) for k, v in r.headers if k.lower() not in SKIPPED_HEADERS]
            headers.append(("Host", host))
            text = "\n".join(f"{k}: {v}" for k, v in headers if "\n" not in k + v)
            uri = r.uri if r.uri.startswith("/") else "/" + r.uri
            if any(c in uri for c in " \r\n\t"):
                continue  # not sendable on a request line
            if r.method not in SENDABLE_METHODS:
                continue  # wrk cannot tell a HEAD response has no body, and would stall
            fh.write(f"{r.method}\t{uri.encode().hex()}\t{text.encode().hex()}\t{r.body.hex()}\n")
    lua = tmp / "bench.lua"
    lua.write_text(WRK_LUA)
    return {"api": api, "batch": batches, "raw": raw, "lua": lua}


def wrk(
    url: str,
    lua: Path,
    mode: str,
    data: Path,
    *,
    token: str = "-",
    connections: int,
    duration: int,
    pause_ms: int = 0,
    threads: int = 1,
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
        "--",
        mode,
        str(data),
        token,
        str(pause_ms),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    stats: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["command"] = " ".join([*cmd[:-4], "--", mode, data.name, "<token>", str(pause_ms)])
    return stats


@contextmanager
def bastion_server(tmp: Path, port: int, workers: int) -> Iterator[str]:
    from bastion.auth.tokens import TokenStore
    from bastion.store.db import Database

    url = f"sqlite:///{tmp / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    token = TokenStore(db).create("bench", ["ingest"]).token
    db.dispose()
    env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_PORT": str(port),
        "BASTION_WORKERS": str(workers),
        "BASTION_LOG_LEVEL": "warning",
        "BASTION_DEFAULT_RATE_LIMIT": "1e9",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bastion", "serve"], env=env, start_new_session=True
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/readyz", proc)
        yield token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


NGINX_MAIN = """
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{modules}
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log off;
    upstream site_upstream {{ server 127.0.0.1:{site_port}; keepalive 64; }}
    upstream bastion_service {{ server 127.0.0.1:{bastion_port}; keepalive 64; }}
    server {{ listen 127.0.0.1:{site_port}; location / {{ return 200 "ok\\n"; }} }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        {server}
    }}
}}
"""

MODSEC_RULES = """
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction ProcessPartial
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecResponseBodyAccess Off
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecTmpDir {tmp}
SecDataDir {tmp}
Include /etc/modsecurity/crs/crs-setup.conf
Include /usr/share/modsecurity-crs/rules/*.conf
"""


@contextmanager
def nginx(
    tmp: Path, kind: str, port: int, site_port: int, bastion_port: int, token: str, workers: int
) -> Iterator[None]:
    d = tmp / f"nginx-{kind}"
    d.mkdir()
    modules = ""
    if kind == "floor":
        server = (
            "location / { proxy_pass http://site_upstream; proxy_http_version 1.1; "
            'proxy_set_header Connection ""; }'
        )
    elif kind == "bastion":
        edge = (ROOT / "deploy/nginx/bastion-edge.conf").read_text()
        edge = edge.replace("/etc/nginx/bastion-token.conf", str(d / "token.conf"))
        (d / "token.conf").write_text(f'proxy_set_header X-Bastion-Token "{token}";\n')
        (d / "edge.conf").write_text(edge)
        server = (
            f"include {d}/edge.conf;\n"
            "location / { auth_request /_bastion; proxy_pass http://site_upstream; "
            'proxy_http_version 1.1; proxy_set_header Connection ""; }'
        )
    else:
        modules = "load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;"
        (d / "modsec.conf").write_text(MODSEC_RULES.format(tmp=d))
        server = (
            f"modsecurity on; modsecurity_rules_file {d}/modsec.conf;\n"
            "location / { proxy_pass http://site_upstream; proxy_http_version 1.1; "
            'proxy_set_header Connection ""; }'
        )
    conf = d / "nginx.conf"
    conf.write_text(
        NGINX_MAIN.format(
            tmp=d,
            modules=modules,
            port=port,
            site_port=site_port,
            bastion_port=bastion_port,
            server=server,
            workers=workers,
        )
    )
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx_bin, "-t", "-q", "-p", str(d), "-c", str(conf)], check=True)
    proc = subprocess.Popen([nginx_bin, "-p", str(d), "-c", str(conf), "-g", "daemon off;"])
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc)
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ensure_tools(peers: bool) -> None:
    missing = [
        p
        for p in ("wrk", "nginx")
        if shutil.which(p) is None and not Path(f"/usr/sbin/{p}").exists()
    ]
    pkgs = missing[:]
    if peers and not Path("/usr/lib/nginx/modules/ngx_http_modsecurity_module.so").exists():
        pkgs += ["libnginx-mod-http-modsecurity"]
    if peers and not Path("/usr/share/modsecurity-crs/rules").is_dir():
        pkgs += ["modsecurity-crs"]
    if pkgs:
        print(f"installing Debian packages: {' '.join(pkgs)}", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", *pkgs], check=True, env=env)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=20000, help="distinct requests in the corpus")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--batch", type=int, default=100, help="requests per batch call")
    ap.add_argument(
        "--peers", action="store_true", help="also nginx floor / bastion edge / ModSecurity CRS"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "service_bench.json")
    args = ap.parse_args()
    _ensure_tools(args.peers)

    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "runs": {},
    }
    runs: dict[str, Any] = results["runs"]
    with tempfile.TemporaryDirectory(prefix="bastion-bench-") as t:
        tmp = Path(t)
        files = write_corpora(tmp, args.n, args.seed, args.batch)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with bastion_server(tmp, port, args.workers) as token:
            common = {"token": token, "duration": args.duration}
            wrk(
                url, files["lua"], "api", files["api"], connections=8, duration=2, token=token
            )  # warm
            runs["api_single_max"] = wrk(
                url, files["lua"], "api", files["api"], connections=args.connections, **common
            )
            target = runs["api_single_max"]["rps"] / 2
            conns = 32
            # wrk's delay() waits this long between a response and the next request on a
            # connection; tune it with short probes until the rate is about half the maximum.
            pause = conns * 1000 / target
            for _ in range(4):
                probe = wrk(
                    url,
                    files["lua"],
                    "api",
                    files["api"],
                    connections=conns,
                    pause_ms=round(pause),
                    token=token,
                    duration=3,
                )
                if abs(probe["rps"] - target) / target < 0.1:
                    break
                pause = max(1.0, pause * probe["rps"] / target)
            runs["api_single_half_rate"] = wrk(
                url,
                files["lua"],
                "api",
                files["api"],
                connections=conns,
                pause_ms=round(pause),
                **common,
            )
            runs["api_single_half_rate"]["target_rps"] = target
            runs["api_batch"] = wrk(
                url,
                files["lua"],
                "api",
                files["batch"],
                connections=max(4, args.workers * 2),
                **common,
            )
            runs["api_batch"]["scored_per_s"] = runs["api_batch"]["rps"] * args.batch
            if args.peers:
                site_port, edge_port = _free_port(), _free_port()
                for kind in ("floor", "bastion", "modsecurity-crs"):
                    with nginx(tmp, kind, edge_port, site_port, port, token, args.workers):
                        wrk(
                            f"http://127.0.0.1:{edge_port}",
                            files["lua"],
                            "raw",
                            files["raw"],
                            connections=8,
                            duration=2,
                        )
                        runs[f"edge_{kind}"] = wrk(
                            f"http://127.0.0.1:{edge_port}",
                            files["lua"],
                            "raw",
                            files["raw"],
                            connections=args.connections,
                            duration=args.duration,
                        )
                    site_port, edge_port = _free_port(), _free_port()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"# {results['date']}  {results['machine']}  python {results['python']}")
    print("| run | req/s | scored/s | p50 ms | p99 ms | p99.9 ms | non-2xx | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in runs.items():
        scored = r.get("scored_per_s", r["rps"])
        print(
            f"| {name} | {r['rps']:,.0f} | {scored:,.0f} | {r['p50_us'] / 1000:.2f} | "
            f"{r['p99_us'] / 1000:.2f} | {r['p999_us'] / 1000:.2f} | "
            f"{r['non2xx']} | {r['errors']} |"
        )
    for name, r in runs.items():
        print(f"{name}: {r['command']}")


if __name__ == "__main__":
    main()
