"""Helpers for service tests: an in-process app with real SQLite and real API tokens."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from bastion.auth.tokens import TokenStore
from bastion.config import Settings, load_settings
from bastion.service.app import create_app
from bastion.store.db import Database
from bastion.waf.scorer import Scorer


@dataclass
class Service:
    client: TestClient
    settings: Settings
    admin: str
    ingest: str
    analyst: str

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_service(tmp_path: Path, scorer: Scorer, **overrides: object) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path / 'bastion.db'}"
    settings = load_settings(None, database_url=url, **overrides)
    db = Database(url)
    db.upgrade()
    store = TokenStore(db)
    admin = store.create("admin", ["admin"]).token
    ingest = store.create("nginx", ["ingest"]).token
    analyst = store.create("analyst", ["analyst"]).token
    db.dispose()
    app = create_app(settings, scorer=scorer)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, settings, admin, ingest, analyst)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    port: int
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(tmp_path: Path, workers: int = 2, **env: str) -> Iterator[RunningServer]:
    """``bastion serve`` in a subprocess on a free port, with an ingest token."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = Database(url)
    db.upgrade()
    token = TokenStore(db).create("tests", ["ingest", "analyst"]).token
    db.dispose()
    port = free_port()
    full_env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_PORT": str(port),
        "BASTION_WORKERS": str(workers),
        "BASTION_LOG_LEVEL": "warning",
        **env,
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bastion", "serve"],
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", port, token, process, log_path)
    try:
        deadline = time.monotonic() + 60
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
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
