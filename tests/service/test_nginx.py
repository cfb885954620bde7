"""A real nginx (Debian's package) in front of a tiny upstream, with bastion's edge check.

Uses the shipped deploy/nginx files, only pointing their upstreams, paths and token at
this test's ports and temporary directory.
"""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from service_kit import RunningServer, free_port, running_server

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class _Upstream(http.server.BaseHTTPRequestHandler):
    """Answers 200 and echoes the X-Bastion-* headers nginx forwarded."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        forwarded = {
            k.lower(): v for k, v in self.headers.items() if k.lower().startswith("x-bastion")
        }
        _Upstream.seen.append({"path": self.path, **forwarded})
        body = b"hello from the site\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _image() -> bytes:
    """A JPEG with smooth structure (PDQ quality 100)."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:240, 0:320].astype(np.float32)
    rgb = np.stack(
        [127 + 120 * np.sin(x * f + y * g) for f, g in ((0.02, 0.01), (0.01, 0.03), (0.04, 0.02))],
        axis=-1,
    )
    out = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def bastion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from bastion.content import Bank, CsvDirectoryStore, Entry, hash_content

    tmp = tmp_path_factory.mktemp("bastion")
    bank = Bank("known", "pdq")
    pdq = hash_content(_image()).value("pdq")
    assert pdq is not None
    bank.add(Entry(pdq, indicator_id="ind-1"))
    CsvDirectoryStore(tmp / "banks").save(bank)
    with running_server(tmp, BASTION_BANKS_DIR=str(tmp / "banks")) as server:
        yield server


def render_nginx(
    tmp: Path, *, listen: int, bastion_port: int, upstream_port: int, token: str
) -> Path:
    site = (REPO / "deploy/nginx/bastion-site.conf").read_text()
    edge = (REPO / "deploy/nginx/bastion-edge.conf").read_text()
    site = site.replace("127.0.0.1:8080", f"127.0.0.1:{bastion_port}")
    site = site.replace("127.0.0.1:3000", f"127.0.0.1:{upstream_port}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("/var/log/nginx/bastion-access.log", str(tmp / "access.log"))
    site = site.replace("/etc/nginx/bastion-edge.conf", str(tmp / "bastion-edge.conf"))
    edge = edge.replace("/etc/nginx/bastion-token.conf", str(tmp / "bastion-token.conf"))
    (tmp / "bastion-site.conf").write_text(site)
    (tmp / "bastion-edge.conf").write_text(edge)
    (tmp / "bastion-token.conf").write_text(f'proxy_set_header X-Bastion-Token "{token}";\n')
    (tmp / "nginx.conf").write_text(
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
    include {tmp}/bastion-site.conf;
}}
"""
    )
    return tmp / "nginx.conf"


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory, bastion: RunningServer, upstream: int
) -> Iterator[tuple[str, Path]]:
    assert Path(NGINX).exists(), (
        "nginx is not installed: scripts/bootstrap.sh installs Debian's nginx"
    )
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = render_nginx(
        tmp, listen=port, bastion_port=bastion.port, upstream_port=upstream, token=bastion.token
    )
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, (tmp / "error.log").read_text()
            time.sleep(0.05)
    yield base, tmp
    process.terminate()
    process.wait(10)


def _log_line_for(log: Path, needle: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if needle in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in access log:\n{log.read_text()}")


def test_clean_request_passes_with_scores_forwarded_and_logged(nginx: tuple[str, Path]) -> None:
    base, tmp = nginx
    r = httpx.get(base + "/products/42?colour=blue", headers={"Host": "shop.example"})
    assert r.status_code == 200 and r.text == "hello from the site\n"
    seen = [s for s in _Upstream.seen if s["path"] == "/products/42?colour=blue"]
    assert (
        seen and int(seen[-1]["x-bastion-score"]) > 80 and seen[-1]["x-bastion-action"] == "allow"
    )
    line = _log_line_for(tmp / "access.log", "/products/42?colour=blue")
    fields = dict(re.findall(r"(\w+)=(\S*)", line))
    assert (
        int(fields["bastion_score"]) > 80
        and fields["class"] == "clean"
        and fields["action"] == "allow"
    )


def test_attack_is_blocked_before_the_site_and_logged(nginx: tuple[str, Path]) -> None:
    base, tmp = nginx
    before = len(_Upstream.seen)
    uri = "/search?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-"
    r = httpx.get(base + uri)
    assert r.status_code == 403
    assert len(_Upstream.seen) == before, "a blocked request must not reach the site"
    line = _log_line_for(tmp / "access.log", "UNION%20SELECT")
    fields = dict(re.findall(r"(\w+)=(\S*)", line))
    assert '" 403 ' in line
    assert int(fields["bastion_score"]) <= 20 and int(fields["sqli"]) <= 20
    assert fields["class"] == "attack" and fields["action"] == "block" and fields["rule"]


def test_attack_in_a_header_is_blocked(nginx: tuple[str, Path]) -> None:
    base, _ = nginx
    r = httpx.get(base + "/", headers={"User-Agent": "<script>alert(document.cookie)</script>"})
    assert r.status_code == 403


def test_url_blocked_by_content_scanning_answers_451(
    nginx: tuple[str, Path], bastion: RunningServer
) -> None:
    base, _ = nginx
    r = httpx.post(
        f"{bastion.url}/v1/content/scan",
        params={"url": "https://shop.example/img/bad.jpg", "zone": "shop.example"},
        content=_image(),
        headers={"Authorization": f"Bearer {bastion.token}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["block"]["state"] == "active"
    # Every worker sees the block within its refresh period (2 s by default).
    deadline = time.monotonic() + 10
    statuses: list[int] = []
    while time.monotonic() < deadline:
        statuses = [
            httpx.get(base + "/img/bad.jpg?w=10", headers={"Host": "shop.example"}).status_code
            for _ in range(6)
        ]
        if set(statuses) == {451}:
            break
        time.sleep(0.2)
    assert set(statuses) == {451}, statuses
    # Once every worker has the block, the URL never reaches the site.
    before = len(_Upstream.seen)
    for _ in range(10):
        got = httpx.get(base + "/img/bad.jpg", headers={"Host": "shop.example"})
        assert got.status_code == 451
    assert len(_Upstream.seen) == before, "a blocked URL must not reach the site"
    # Other URLs and other zones are served; attacks still get 403.
    assert httpx.get(base + "/img/ok.jpg", headers={"Host": "shop.example"}).status_code == 200
    assert httpx.get(base + "/img/bad.jpg", headers={"Host": "other.example"}).status_code == 200
    assert httpx.get(base + "/?q=<script>alert(1)</script>").status_code == 403


def test_bastion_down_fails_open_and_says_so(tmp_path: Path, upstream: int) -> None:
    """With bastion unreachable, requests are served unscored and marked, not failed."""
    port = free_port()
    conf = render_nginx(
        tmp_path, listen=port, bastion_port=free_port(), upstream_port=upstream, token="x"
    )
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/down-check")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status_code == 200
        assert _Upstream.seen[-1]["path"] == "/down-check"
        assert _Upstream.seen[-1]["x-bastion-action"] == "unavailable"
    finally:
        process.terminate()
        process.wait(10)
