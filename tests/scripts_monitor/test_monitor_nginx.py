"""The shipped nginx snippets (deploy/nginx/bastion-csp*.conf) in a real nginx: sampled
report-only headers on HTML only, the site's own policy left alone, reports proxied."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPORT_URL = "https://bastion.example/v1/csp/reports/shop.example"


class _Site(http.server.BaseHTTPRequestHandler):
    """The application and (for /v1/csp/reports/) a stand-in for bastion."""

    reports: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_GET(self) -> None:
        kinds = {
            "/page.html": "text/html; charset=utf-8",
            "/data.json": "application/json",
            "/own.html": "text/html",
        }
        body = b"<html><script src='https://cdn.example/a.js'></script></html>"
        self.send_response(200)
        self.send_header("Content-Type", kinds.get(self.path, "text/plain"))
        if self.path == "/own.html":
            self.send_header("Content-Security-Policy-Report-Only", "default-src 'self'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        _Site.reports.append((self.path, self.headers.get("X-Forwarded-For", ""), body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nginx(tmp: Path, site_port: int, sample: str) -> Iterator[str]:
    assert Path(NGINX).exists(), "nginx is not installed: scripts/bootstrap.sh installs it"
    maps = (REPO / "deploy/nginx/bastion-csp.conf").read_text()
    headers = (REPO / "deploy/nginx/bastion-csp-headers.conf").read_text()
    assert maps.count(REPORT_URL) == 3 and '10%     "1";' in maps
    maps = maps.replace('10%     "1";', f'{sample}     "1";')
    (tmp / "bastion-csp.conf").write_text(maps)
    (tmp / "bastion-csp-headers.conf").write_text(headers)
    port = _free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log off;
    include {tmp}/bastion-csp.conf;
    upstream bastion_service {{ server 127.0.0.1:{site_port}; }}
    server {{
        listen 127.0.0.1:{port};
        include {tmp}/bastion-csp-headers.conf;
        location / {{ proxy_pass http://127.0.0.1:{site_port}; }}
    }}
}}
"""
    )
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                httpx.get(base + "/data.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp / "error.log").read_text()
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def everyone(tmp_path_factory: pytest.TempPathFactory, site: int) -> Iterator[str]:
    yield from _nginx(tmp_path_factory.mktemp("nginx-all"), site, "100%")


@pytest.fixture(scope="module")
def half(tmp_path_factory: pytest.TempPathFactory, site: int) -> Iterator[str]:
    yield from _nginx(tmp_path_factory.mktemp("nginx-half"), site, "50%")


def test_html_gets_the_report_only_header(everyone: str) -> None:
    r = httpx.get(everyone + "/page.html")
    assert r.status_code == 200
    assert r.headers["content-security-policy-report-only"] == (
        "script-src 'none' 'report-sample'; connect-src 'none'; "
        f"report-uri {REPORT_URL}; report-to bastion-csp"
    )
    assert r.headers["reporting-endpoints"] == f'bastion-csp="{REPORT_URL}"'


def test_other_responses_and_the_sites_own_policy_are_left_alone(everyone: str) -> None:
    r = httpx.get(everyone + "/data.json")
    assert "content-security-policy-report-only" not in r.headers
    assert "reporting-endpoints" not in r.headers
    r = httpx.get(everyone + "/own.html")
    assert r.headers.get_list("content-security-policy-report-only") == ["default-src 'self'"]
    assert "reporting-endpoints" not in r.headers


def test_the_sample_is_a_fraction_of_responses(half: str) -> None:
    with httpx.Client() as client:
        hits = sum(
            "content-security-policy-report-only" in client.get(half + "/page.html").headers
            for _ in range(400)
        )
    assert 140 < hits < 260


def test_reports_are_proxied_with_the_client_address(everyone: str) -> None:
    before = len(_Site.reports)
    body = b'{"csp-report": {"document-uri": "https://shop.example/"}}'
    r = httpx.post(
        everyone + "/v1/csp/reports/shop.example",
        content=body,
        headers={"Content-Type": "application/csp-report"},
    )
    assert r.status_code == 202
    path, forwarded, got = _Site.reports[before]
    assert path == "/v1/csp/reports/shop.example" and got == body
    assert forwarded == "127.0.0.1"
    assert httpx.get(everyone + "/v1/csp/reports/shop.example").status_code == 403
    big = b"x" * (65 * 1024)
    r = httpx.post(everyone + "/v1/csp/reports/shop.example", content=big)
    assert r.status_code == 413
