"""A real HTTP server on a loopback address for the fetcher's tests, and a socket spy."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: int) -> None:
        self.address_family = family
        self.hits: list[tuple[str, str]] = []  # (path, Host header)
        #: Bodies served at ``/files/<name>`` (tests change them to simulate deploys).
        self.files: dict[str, bytes] = {}
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.hits.append((parts.path, self.headers.get("Host", "")))
        route = parts.path
        if route.startswith("/files/"):
            body = self.server.files.get(route[len("/files/") :])
            if body is None:
                self._send(404, b"no such file", "text/plain")
            else:
                self._send(200, body, "application/javascript")
        elif route == "/ok":
            self._send(200, b"console.log('hello');", "text/javascript")
        elif route == "/host":
            self._send(200, self.headers.get("Host", "").encode(), "text/plain")
        elif route == "/redirect":
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", query["to"])
            self.end_headers()
        elif route == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif route.startswith("/chain/"):
            n = int(route.rsplit("/", 1)[1])
            if n == 0:
                self._send(200, b"end", "text/plain")
            else:
                self.send_response(301)
                self.send_header("Location", f"/chain/{n - 1}")
                self.end_headers()
        elif route == "/big":  # declared length over the limit
            self.send_response(200)
            self.send_header("Content-Length", str(50 << 20))
            self.end_headers()
            self._write_quietly(b"x" * 65536)
        elif route == "/stream":  # no declared length: the limit holds while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(int(query.get("chunks", "800"))):
                if not self._write_quietly(b"y" * 65536):
                    break
        elif route == "/bomb":  # 64 MiB of zeros gzipped to ~64 KiB
            data = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self._write_quietly(data)
        elif route == "/gzip":
            data = gzip.compress(b"var a = 1;\n" * 100)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self._write_quietly(data)
        elif route == "/drip":  # a byte every 0.2 s, for far longer than any limit
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if not self._write_quietly(b"."):
                    break
                time.sleep(0.2)
        elif route == "/hang":  # headers never come
            time.sleep(float(query.get("s", "5")))
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write_quietly(body)

    def _write_quietly(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True


@contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[_Server]:
    """A threaded HTTP server on ``host`` (a free port), stopped afterwards."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = _Server((host, 0), family)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def port_of(server: _Server) -> int:
    return int(server.server_address[1])


def can_bind(host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
    except OSError:
        return False
    return True
