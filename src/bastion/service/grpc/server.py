"""Run the gRPC scoring service: one server per process, several processes per address.

Scoring is CPU-bound Python that holds the GIL, so a process gains nothing from many
threads: :func:`build_server` uses a small thread pool, and :func:`serve` scales by
running ``workers`` processes that all bind the same address with ``SO_REUSEPORT`` (the
kernel spreads incoming connections over them).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from types import FrameType

import grpc

from bastion.service.grpc.servicer import Authorize, WafScoringServicer
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf.scorer import Scorer, load_scorer

log = logging.getLogger(__name__)

#: Builds a worker's authorize hook inside that worker (it may open connections); it is
#: sent to worker processes, so it must be picklable (a module-level function).
AuthorizeFactory = Callable[[], Authorize]

#: Extra time the supervisor gives a stopping worker beyond its grace period.
_STOP_MARGIN_S = 15.0


def build_server(
    scorer: Scorer,
    *,
    authorize: Authorize | None = None,
    max_batch: int = 1000,
    max_message_bytes: int = 16 << 20,
    threads: int = 16,
    max_concurrent_rpcs: int | None = None,
    stream_batch: int = 64,
    reuse_port: bool = False,
) -> grpc.Server:
    """A ``grpc.Server`` (not started, no port) serving ``bastion.v1.WafScoring``.

    ``authorize`` gets each call's bearer token (None when absent) and refuses the call
    with UNAUTHENTICATED by returning False; without it every call is allowed. Every call,
    a stream too, holds one of the ``threads`` while it runs; calls beyond
    ``max_concurrent_rpcs`` (default: ``threads``) fail at once with RESOURCE_EXHAUSTED
    rather than queue behind long-lived streams. ``reuse_port`` lets other processes bind
    the same port (grpc's ``grpc.so_reuseport``, on by default in grpc, off here so that a
    second server on a busy port fails instead of silently sharing it).

    Add a port with ``server.add_insecure_port("127.0.0.1:0")`` (returns the bound port),
    then ``server.start()``.
    """
    servicer = WafScoringServicer(
        scorer, authorize=authorize, max_batch=max_batch, stream_batch=stream_batch
    )
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc-waf"),
        options=options,
        maximum_concurrent_rpcs=max_concurrent_rpcs or threads,
    )
    pb_grpc.add_WafScoringServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    return server


def serve(
    address: str,
    *,
    workers: int,
    model_path: Path | None,
    authorize_factory: AuthorizeFactory | None = None,
    grace_s: float = 10.0,
    threads: int = 16,
) -> None:
    """Serve on ``address`` ("host:port") from ``workers`` processes until SIGTERM/SIGINT.

    Each worker loads the model, binds ``address`` with SO_REUSEPORT and serves. On
    SIGTERM or SIGINT (to this process; it is passed on to the workers) each worker stops
    taking new calls and lets those in flight finish for up to ``grace_s`` seconds.
    Returns when every worker has exited; raises RuntimeError if one failed (its exit
    status is named), after stopping the others. Call it from the main thread (it installs
    signal handlers, restored on return). Workers are started with the "spawn" method, so
    a script calling this needs an ``if __name__ == "__main__":`` guard. Workers log to
    stderr (INFO) unless logging is configured in them.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers > 1 and address.rsplit(":", 1)[-1] == "0":
        raise ValueError("with several workers give a fixed port: each worker binds it")
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker,
            args=(address, model_path, authorize_factory, grace_s, threads),
            name=f"bastion-grpc-{i}",
        )
        for i in range(workers)
    ]
    live: set[int] = set()
    stopping = False

    def stop_all(signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(live):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop_all) for sig in (signal.SIGTERM, signal.SIGINT)}
    failures: list[str] = []
    try:
        for p in procs:
            p.start()
            assert p.pid is not None
            live.add(p.pid)
        if stopping:  # a signal came while starting
            stop_all()
        log.info("gRPC service on %s: %d worker process(es)", address, workers)
        deadline: float | None = None
        pending = list(procs)
        while pending:
            if stopping and deadline is None:
                deadline = time.monotonic() + grace_s + _STOP_MARGIN_S
            # Woken by an exit, or every second to notice a stop and its deadline.
            ready = multiprocessing.connection.wait([p.sentinel for p in pending], timeout=1.0)
            if deadline is not None and time.monotonic() >= deadline:
                for p in pending:
                    if p.is_alive():
                        log.error("worker %s did not stop in time: killed", p.pid)
                        p.kill()
                        p.join()
            for p in [p for p in pending if p.sentinel in ready or not p.is_alive()]:
                p.join()
                live.discard(p.pid or -1)
                pending.remove(p)
                code = p.exitcode
                stopped_by_us = stopping and code in (-signal.SIGTERM, -signal.SIGINT)
                if code != 0 and not stopped_by_us:
                    failures.append(f"{p.name} exited with status {code}")
                    if not stopping:
                        log.error("worker %s exited with status %s: stopping", p.name, code)
                        stop_all()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failures:
        raise RuntimeError("gRPC service: " + "; ".join(failures))


def _worker(
    address: str,
    model_path: Path | None,
    authorize_factory: AuthorizeFactory | None,
    grace_s: float,
    threads: int,
) -> None:
    """One worker process: serve until SIGTERM/SIGINT, then stop gracefully."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(processName)s %(levelname)s %(message)s"
        )
    # The handler only writes to a pipe: it runs between bytecodes of the main thread,
    # which may hold locks, so it must not take any.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already says "stop"
            os.write(wake_w, b"x")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    scorer = load_scorer(model_path)
    authorize = authorize_factory() if authorize_factory is not None else None
    server = build_server(scorer, authorize=authorize, threads=threads, reuse_port=True)
    port = server.add_insecure_port(address)
    server.start()
    log.info("worker %d serving %s (port %d), model %s", os.getpid(), address, port, scorer.version)
    os.read(wake_r, 1)
    log.info("worker %d stopping (grace %.1f s)", os.getpid(), grace_s)
    server.stop(grace_s).wait()
