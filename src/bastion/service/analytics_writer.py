"""The request-log writer process that ``bastion serve`` starts beside its workers.

Workers ship sampled judged batches over a Unix socket (:mod:`bastion.service.analytics_shipper`);
this process rebuilds them (:mod:`bastion.analytics.wire`) and hands them to a
:class:`~bastion.service.analytics_log.RequestLog`, which builds the rows, explains
attack-class requests with the active model, writes them in batches and runs the rollups
and retention. The serving workers keep none of that work: on a 2-core machine the log
costs the scoring path a queue append and a share of one serialization per interval.

Stopping (``bastion serve`` closes the writer's standard input once its workers have
drained and shipped their last requests): stop accepting, read what open connections still
send, write everything, close the store.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bastion.analytics import wire
from bastion.analytics.record import Explainer
from bastion.config import load_settings
from bastion.service.analytics_api import build_request_log, store_url
from bastion.service.analytics_log import RequestLog
from bastion.store.analytics import open_analytics
from bastion.store.db import Database

log = logging.getLogger("bastion.analytics")

#: File name of the socket inside the directory ``bastion serve`` creates for it.
SOCKET_NAME = "analytics.sock"


class LogWriterServer:
    """Accepts worker connections on ``socket_path`` and feeds ``request_log``."""

    def __init__(
        self,
        socket_path: str,
        request_log: RequestLog,
        scorer_for: Callable[[str], Explainer | None] | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.request_log = request_log
        self.scorer_for = scorer_for
        self.received = 0
        self.rejected_frames = 0
        self._listener: socket.socket | None = None
        self._readers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._acceptor: threading.Thread | None = None

    def bind(self) -> None:
        """Listen on the socket (owner-only permissions)."""
        path = Path(self.socket_path)
        if path.exists() or path.is_symlink():
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(self.socket_path)
        finally:
            os.umask(old_umask)
        listener.listen(64)
        self._listener = listener

    def serve_in_background(self) -> None:
        """Accept connections on a daemon thread."""
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="log-writer-accept", daemon=True
        )
        self._acceptor.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        listener.settimeout(0.1)
        while True:
            closing = self._closing.is_set()
            if closing:
                # Take what is still in the backlog: a worker may have connected and sent
                # its last requests just before the stop.
                listener.setblocking(False)
            try:
                conn, _ = listener.accept()
            except (TimeoutError, BlockingIOError):
                if closing:
                    return
                continue
            except OSError:
                return
            conn.setblocking(True)
            reader = threading.Thread(
                target=self._read, args=(conn,), name="log-writer-conn", daemon=True
            )
            with self._lock:
                self._readers.add(reader)
            reader.start()

    def _read(self, conn: socket.socket) -> None:
        try:
            with conn:
                while True:
                    header = _recv_exactly(conn, wire.HEADER.size)
                    if header is None:
                        return
                    try:
                        length = wire.frame_length(header)
                        payload = _recv_exactly(conn, length)
                        if payload is None:
                            log.warning("analytics writer: a worker closed mid-frame")
                            return
                        batches = wire.unpack(payload, self.scorer_for)
                    except wire.WireError as exc:
                        # A stream out of step cannot be resynchronized: drop the connection.
                        self.rejected_frames += 1
                        log.warning("analytics writer: %s; connection dropped", exc)
                        return
                    for batch in batches:
                        self.received += len(batch.requests)
                        self.request_log(batch)
        except OSError as exc:
            log.warning("analytics writer: connection error (%s)", exc)
        finally:
            with self._lock:
                self._readers.discard(threading.current_thread())

    def close(self, drain_s: float = 5.0) -> None:
        """Stop accepting, give open connections ``drain_s`` to finish, write and close."""
        self._closing.set()
        deadline = time.monotonic() + drain_s
        if self._acceptor is not None:
            self._acceptor.join(drain_s)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        while True:
            with self._lock:
                readers = list(self._readers)
            if not readers or time.monotonic() >= deadline:
                break
            readers[0].join(max(0.0, deadline - time.monotonic()))
        self.request_log.close()
        Path(self.socket_path).unlink(missing_ok=True)


def _recv_exactly(conn: socket.socket, n: int) -> bytes | None:
    """``n`` bytes, or None at a clean end of stream before the first byte."""
    chunks = bytearray()
    while len(chunks) < n:
        chunk = conn.recv(min(n - len(chunks), 1 << 20))
        if not chunk:
            if chunks:
                raise OSError(f"stream ended {n - len(chunks)} bytes short")
            return None
        chunks += chunk
    return bytes(chunks)


def scorer_lookup(model_path: str | Path | None) -> Callable[[str], Explainer | None]:
    """A lookup of the configured model by version, loaded on first use (the writer only
    explains requests that model scored; others are explained when opened)."""
    loaded: list[Explainer | None] = []
    version: list[str] = []

    def lookup(model_version: str) -> Explainer | None:
        if not loaded:
            from bastion.waf.scorer import load_scorer

            try:
                scorer = load_scorer(model_path)
            except Exception:
                log.exception("analytics writer: cannot load the model to explain requests")
                loaded.append(None)
                version.append("")
            else:
                loaded.append(scorer)
                version.append(scorer.version)
        return loaded[0] if model_version == version[0] else None

    return lookup


def run_log_writer(socket_path: str) -> None:
    """Process entry point: serve ``socket_path`` until standard input ends (settings from
    the environment, as the workers read them).

    ``bastion serve`` holds the other end of the pipe and closes it once its workers have
    shipped their last requests (or dies, which closes it too). Signals do not stop the
    writer: SIGTERM or Ctrl-C sent to the whole process group (a terminal, ``kill -- -PGID``,
    systemd) reach it at the same moment as the workers, which still have rows to ship.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    settings = load_settings()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    database = Database(settings.database_url)
    # Not exclusive: the workers open the same DuckDB file to answer analytics queries.
    store = open_analytics(store_url(settings), exclusive=False)
    request_log = build_request_log(settings, database, store, sampled=False)
    request_log.start()
    server = LogWriterServer(socket_path, request_log, scorer_lookup(settings.model_path))
    server.bind()
    server.serve_in_background()
    log.info("analytics writer: listening on %s", socket_path)
    while os.read(0, 4096):  # until bastion serve closes the pipe (or exits)
        pass
    server.close(drain_s=settings.graceful_timeout_s)
    log.info("analytics writer: %d requests received, stopped", server.received)


if __name__ == "__main__":
    import sys

    run_log_writer(sys.argv[1])
