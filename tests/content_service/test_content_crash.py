"""No block, notification or report is lost across kill -9 between scan and delivery."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from kit import photo, write_banks

from bastion.auth.tokens import TokenStore
from bastion.store.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_kit import free_port


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[str, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _serve(tmp: Path, db_url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    full = {
        **os.environ,
        "BASTION_DATABASE_URL": db_url,
        "BASTION_PORT": str(port),
        "BASTION_WORKERS": "1",
        "BASTION_LOG_LEVEL": "warning",
        "BASTION_BANKS_DIR": str(tmp / "banks"),
        "BASTION_CONTENT_DELIVER_INTERVAL_S": "0.2",
        **env,
    }
    log = (tmp / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bastion", "serve"],
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (tmp / f"serve-{port}.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_kill_between_scan_and_delivery_loses_nothing_and_delivers_once(
    tmp_path: Path, database_url: str, receiver: str
) -> None:
    known = photo(1)
    write_banks(tmp_path / "banks", [known])
    db = Database(database_url)
    db.upgrade()
    token = TokenStore(db).create("scanner", ["ingest"]).token
    db.dispose()
    auth = {"Authorization": f"Bearer {token}"}

    port = free_port()
    # First life: delivery is off, so the kill lands after the commit, before any delivery.
    first = _serve(tmp_path, database_url, port, BASTION_CONTENT_DELIVER="false")
    try:
        for path in ("/a.jpg", "/b.jpg"):
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/content/scan",
                params={"url": path, "zone": "shop.example"},
                content=known,
                headers=auth,
                timeout=30,
            )
            assert r.status_code == 200 and r.json()["block"]["state"] == "active", r.text
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert _Receiver.got == []

    port = free_port()
    second = _serve(
        tmp_path,
        database_url,
        port,
        BASTION_CONTENT_NOTIFY_URL=receiver,
        BASTION_CONTENT_REPORT_URL=receiver,
    )
    try:
        deadline = time.monotonic() + 20
        while len(_Receiver.got) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # several more delivery polls: nothing may be sent twice
        keys = sorted(k for k, _ in _Receiver.got)
        assert len(keys) == 3 and len(set(keys)) == 3, keys
        digests = [p for k, p in _Receiver.got if k.startswith("notification:shop.example:")]
        assert len(digests) == 1
        assert sorted(b["url"] for b in digests[0]["blocks"]) == ["/a.jpg", "/b.jpg"]  # type: ignore[attr-defined, index]
        reports = [p for k, p in _Receiver.got if k.startswith("report:")]
        assert len(reports) == 2 and all(p["file"]["sha256"] for p in reports)  # type: ignore[index]
        # Both blocks survived the kill and are enforced by the new process's edge check.
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/content/blocks", headers=auth)
        assert listed.status_code == 403  # the ingest role may scan but not list
        r = httpx.get(
            f"http://127.0.0.1:{port}/v1/edge/check",
            headers={
                **auth,
                "X-Original-URI": "/a.jpg",
                "X-Original-Method": "GET",
                "Host": "shop.example",
            },
        )
        assert r.status_code == 403 and r.headers["x-bastion-action"] == "content-block"
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
