"""``serve``: several worker processes on one address, graceful stop on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_worker_hooks import TOKEN

from bastion.service.grpc.convert import to_proto_request
from bastion.service.grpc.server import serve
from bastion.service.grpc.v1 import waf_pb2 as pb
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf import HttpRequest

HERE = Path(__file__).resolve().parent
AUTH = [("authorization", f"Bearer {TOKEN}")]
ATTACK = HttpRequest("GET", "/item?id=1%27%20union%20select%20password%20from%20users--")
CLEAN = HttpRequest("GET", "/item?id=42&lang=en", (("Host", "shop.example"),))


def reserve_port() -> socket.socket:
    """A bound (not listening) SO_REUSEPORT socket: its port stays ours, and the workers,
    which bind with SO_REUSEPORT too, can still bind it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def fresh_stub(target: str) -> tuple[grpc.Channel, pb_grpc.WafScoringStub]:
    # A local subchannel pool makes a new TCP connection instead of reusing one.
    channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
    return channel, pb_grpc.WafScoringStub(channel)


def score_once(target: str, request: HttpRequest) -> pb.ScoreResult:
    channel, stub = fresh_stub(target)
    with channel:
        return stub.Score(
            pb.ScoreRequest(id="u", request=to_proto_request(request)), metadata=AUTH, timeout=5
        )


def test_two_workers_share_the_port_and_sigterm_lets_a_stream_finish(tmp_path: Path) -> None:
    reserved = reserve_port()
    target = f"127.0.0.1:{reserved.getsockname()[1]}"
    pid_log = tmp_path / "pids"
    pid_log.touch()
    script = (
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "from grpc_worker_hooks import pid_logging_authorizer\n"
        "from bastion.service.grpc.server import serve\n"
        f"serve({target!r}, workers=2, model_path=None,"
        " authorize_factory=pid_logging_authorizer, grace_s=20)\n"
    )
    out = tmp_path / "serve.log"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ, "BASTION_TEST_PID_LOG": str(pid_log)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # Both workers answer: new connections are spread over them by the kernel.
        deadline = time.monotonic() + 60
        pids: set[str] = set()
        while len(pids) < 2:
            assert proc.poll() is None, out.read_text()
            assert time.monotonic() < deadline, f"workers seen: {pids}\n{out.read_text()}"
            try:
                assert score_once(target, ATTACK).score <= 20
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc  # not started yet
                time.sleep(0.1)
            pids = set(pid_log.read_text().split())

        # A stream in flight when SIGTERM comes is served to its end.
        channel, stub = fresh_stub(target)
        outbox: queue.Queue[pb.ScoreRequest | None] = queue.Queue()

        def requests() -> Iterator[pb.ScoreRequest]:
            yield from iter(outbox.get, None)

        responses = stub.ScoreStream(requests(), metadata=AUTH, timeout=60)
        reqs = [ATTACK, CLEAN] * 50
        for i, req in enumerate(reqs[:50]):
            outbox.put(pb.ScoreRequest(id=str(i), request=to_proto_request(req)))
        first = [next(responses) for _ in range(50)]

        proc.send_signal(signal.SIGTERM)
        # Stopping workers close their listeners at once: wait until no new connection
        # is accepted, so the rest of the stream really is sent during the shutdown.
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline, "workers still accept new calls"
            try:
                score_once(target, CLEAN)
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
                break
            time.sleep(0.05)
        assert proc.poll() is None  # the stream's worker is still serving it
        for i, req in enumerate(reqs[50:], start=50):
            outbox.put(pb.ScoreRequest(id=str(i), request=to_proto_request(req)))
        outbox.put(None)
        rest = list(responses)
        assert responses.code() == grpc.StatusCode.OK
        channel.close()

        got = first + rest
        assert [r.id for r in got] == [str(i) for i in range(100)]
        assert [getattr(r, "class") for r in got[:2]] == ["attack", "clean"]
        assert all(r.score == got[i % 2].score for i, r in enumerate(got))
        assert proc.wait(timeout=40) == 0, out.read_text()
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"worker {pid} lives"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reserved.close()


def _is_zombie(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_several_workers_need_a_fixed_port() -> None:
    with pytest.raises(ValueError, match="fixed port"):
        serve("127.0.0.1:0", workers=2, model_path=None)


def test_a_worker_that_cannot_bind_is_an_error() -> None:
    with socket.socket() as busy:  # listening without SO_REUSEPORT: nobody else may bind
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(RuntimeError, match="exited with status 1"):
            serve(f"127.0.0.1:{busy.getsockname()[1]}", workers=1, model_path=None, grace_s=1)
