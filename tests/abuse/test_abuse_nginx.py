"""The abuse desk's edge enforcement through a real nginx (Debian's package) with the shipped
deploy/nginx files: a legal order's geo-restricted 451 with RFC 7725's Link header for the
listed countries, the site for others; a case's interstitial page, its pass, and then the
site. ``bastion serve`` runs with two workers, both of which must enforce the rules."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from bastion.auth import TokenStore
from bastion.store import Database
from bastion.store.abuse import set_zone_contacts

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LINK = "https://bastion.example/legal"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Site(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Site.seen.append(self.path)
        body = b"hello from the site\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Edge:
    base: str
    bastion: str
    staff: str

    def get(self, path: str, host: str = "shop.example", **headers: str) -> httpx.Response:
        return httpx.get(self.base + path, headers={"Host": host, **headers}, timeout=5)


def _wait(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    assert Path(NGINX).exists(), "nginx is not installed: scripts/bootstrap.sh installs it"
    tmp = tmp_path_factory.mktemp("abuse-nginx")
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    url = f"sqlite:///{tmp / 'server.db'}"
    db = Database(url)
    db.upgrade()
    tokens = TokenStore(db)
    ingest = tokens.create("nginx", ["ingest"]).token
    staff = tokens.create("t&s", ["trust_safety"]).token
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact=None, host=None, host_contact=None,
                          actor="test")  # fmt: skip
    db.dispose()
    port, listen = free_port(), free_port()
    env = {**os.environ, "BASTION_DATABASE_URL": url, "BASTION_PORT": str(port),
           "BASTION_WORKERS": "2", "BASTION_LOG_LEVEL": "warning",
           "BASTION_ABUSE_BLOCKED_BY_URL": LINK,
           "BASTION_ABUSE_STREAM_URL": f"embedded://{tmp / 'events.db'}"}  # fmt: skip
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "bastion", "serve"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    site_conf = (REPO / "deploy/nginx/bastion-site.conf").read_text()
    edge_conf = (REPO / "deploy/nginx/bastion-edge.conf").read_text()
    site_conf = (
        site_conf.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        .replace("127.0.0.1:3000", f"127.0.0.1:{site.server_address[1]}")
        .replace("listen 80;", f"listen 127.0.0.1:{listen};")
        .replace("/var/log/nginx/bastion-access.log", str(tmp / "access.log"))
        .replace("/etc/nginx/bastion-edge.conf", str(tmp / "bastion-edge.conf"))
    )
    edge_conf = edge_conf.replace("/etc/nginx/bastion-token.conf", str(tmp / "token.conf"))
    (tmp / "bastion-site.conf").write_text(site_conf)
    (tmp / "bastion-edge.conf").write_text(edge_conf)
    (tmp / "token.conf").write_text(f'proxy_set_header X-Bastion-Token "{ingest}";\n')
    temp_paths = "\n".join(f"    {k}_temp_path {tmp}/{k};" for k in
                           ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    (tmp / "nginx.conf").write_text(
        f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log info;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n{temp_paths}\n    access_log off;\n"
        f"    include {tmp}/bastion-site.conf;\n}}\n"
    )
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                              "-g", "daemon off;"])  # fmt: skip
    bastion = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert server.poll() is None, (tmp / "server.log").read_text()
            try:
                return httpx.get(bastion + "/readyz", timeout=1).status_code == 200 and (
                    httpx.get(f"http://127.0.0.1:{listen}/", timeout=1).status_code == 200
                )
            except httpx.TransportError:
                return False

        _wait(up, "bastion and nginx did not start", 60)
        yield Edge(f"http://127.0.0.1:{listen}", bastion, staff)
    finally:
        nginx.terminate()
        nginx.wait(10)
        os.killpg(server.pid, 15)
        server.wait(30)
        log.close()
        site.shutdown()


def test_a_legal_order_is_a_geo_restricted_451_with_a_link(edge: Edge) -> None:
    order = {"authority": "Landgericht Hamburg", "jurisdiction": "DE",
             "reference": "310 O 7/26", "urls": ["https://shop.example/banned"],
             "countries": ["DE", "AT"]}  # fmt: skip
    r = httpx.post(edge.bastion + "/v1/abuse/orders", json=order,
                   headers={"Authorization": f"Bearer {edge.staff}"})  # fmt: skip
    assert r.status_code == 201, r.text
    # Both workers enforce it within their refresh period (2 s).
    _wait(
        lambda: {edge.get("/banned?x=1", **{"CF-IPCountry": "DE"}).status_code
                 for _ in range(8)} == {451},
        "the order was not enforced by every worker",
    )  # fmt: skip
    before = len(_Site.seen)
    for country in ("DE", "at"):
        r = edge.get("/banned", **{"CF-IPCountry": country})
        assert r.status_code == 451, (country, r.text)
        assert r.headers["link"] == f'<{LINK}>; rel="blocked-by"'
        assert "Unavailable For Legal Reasons" in r.text
    assert len(_Site.seen) == before, "a blocked request must not reach the site"
    # Other countries, no country, and other pages pass to the site.
    for path, headers in (("/banned", {"CF-IPCountry": "FR"}), ("/banned", {}),
                          ("/fine", {"CF-IPCountry": "DE"})):  # fmt: skip
        r = edge.get(path, **headers)
        assert r.status_code == 200 and r.text == "hello from the site\n", (path, headers)
        assert "link" not in r.headers
    # A visitor cannot pick a country by sending bastion's own header through nginx.
    r = edge.get("/banned", **{"CF-IPCountry": "FR", "X-Bastion-Country": "FR"})
    assert r.status_code == 200
    r = edge.get("/banned", **{"CF-IPCountry": "DE", "X-Bastion-Country": "FR"})
    assert r.status_code == 451


def test_an_interstitial_then_its_pass(edge: Edge) -> None:
    staff = {"Authorization": f"Bearer {edge.staff}"}
    r = httpx.post(edge.bastion + "/v1/abuse/reports", json={
        "type": "phishing", "urls": ["https://shop.example/login"],
        "reporter": {"email": "r@x.example"}}, headers=staff)  # fmt: skip
    assert r.status_code == 202, r.text
    cases: list[dict[str, object]] = []

    def case_open() -> bool:
        nonlocal cases
        cases = httpx.get(edge.bastion + "/v1/abuse/cases", headers=staff).json()["cases"]
        return bool(cases)

    _wait(case_open, "the report did not become a case")
    case_id = cases[0]["id"]
    r = httpx.post(f"{edge.bastion}/v1/abuse/cases/{case_id}/actions",
                   json={"action": "interstitial"}, headers=staff)  # fmt: skip
    assert r.status_code == 200, r.text
    _wait(lambda: {"Warning" in edge.get("/login?next=1").text for _ in range(8)} == {True},
          "the interstitial was not served by every worker")  # fmt: skip
    before = len(_Site.seen)
    with httpx.Client(
        base_url=edge.base, headers={"Host": "shop.example"}, follow_redirects=True
    ) as browser:
        page = browser.get("/login?next=1")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert len(_Site.seen) == before, "the site is not shown before the warning"
        ticket = page.text.split('name="ticket" value="')[1].split('"')[0]
        rule = page.text.split('name="rule" value="')[1].split('"')[0]
        r = browser.post("/.well-known/bastion-pass",
                         data={"rule": rule, "to": "/login?next=1", "ticket": ticket})  # fmt: skip
        # Followed the 303 back with the pass cookie: the site itself now.
        assert r.status_code == 200 and r.text == "hello from the site\n", r.text
        assert browser.get("/login").text == "hello from the site\n"
    # Another visitor (no pass) still gets the warning.
    assert "Warning" in edge.get("/login").text
