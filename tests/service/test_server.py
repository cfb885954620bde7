"""``bastion serve`` as a real multi-worker server: metrics, slow clients, shutdown, crashes."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import orjson
from service_kit import RunningServer, free_port, running_server

CLEAN = {
    "method": "GET",
    "uri": "/search?q=blue+running+shoes",
    "headers": [["Host", "shop.example"]],
}


def _workers(server: RunningServer) -> set[int]:
    """Worker pids: the uvicorn supervisor's children that are not multiprocessing helpers
    or the request-log writer."""
    children: set[int] = set()
    task_dir = Path(f"/proc/{server.process.pid}/task")
    for task in task_dir.iterdir():
        text = (task / "children").read_text().split()
        children.update(int(pid) for pid in text)
    workers = set()
    for pid in children:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in cmdline and b"analytics_writer" not in cmdline:
            workers.add(pid)
    return workers


def _post(server: RunningServer, payload: object, timeout: float = 30) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/waf/score",
        content=orjson.dumps(payload),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=timeout,
    )


def test_workers_share_one_metrics_view_and_slow_clients_get_408(tmp_path: Path) -> None:
    with running_server(tmp_path, BASTION_REQUEST_TIMEOUT_S="1") as server:
        with httpx.Client(timeout=10) as client:  # one connection lands on one worker...
            for _ in range(20):
                client.post(
                    f"{server.url}/v1/waf/score",
                    content=orjson.dumps(CLEAN),
                    headers={"Authorization": f"Bearer {server.token}"},
                )
        for _ in range(20):  # ...new connections spread over both
            assert _post(server, CLEAN).status_code == 200
        text = httpx.get(
            f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.token}"}
        ).text
        counted = sum(
            float(v)
            for v in re.findall(
                r'bastion_http_requests_total\{method="POST",route="/v1/waf/score",'
                r'status="200"\} (\S+)',
                text,
            )
        )
        assert counted == 40, text

        # A client that announces a body and stalls is cut off with 408, not left hanging.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/waf/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {server.token}\r\n".encode()
                + b'Content-Length: 100\r\n\r\n{"uri": '
            )
            started = time.monotonic()
            reply = sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 408"), reply
            assert time.monotonic() - started < 5

        # A client that dribbles its request head (slowloris) is cut off too.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /v1/waf/score HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            reply = sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 408"), reply
            assert time.monotonic() - started < 5


def test_sigterm_drains_in_flight_requests(tmp_path: Path) -> None:
    batch = {
        "requests": [
            {"uri": f"/p?q=item+{i}&ref=home", "body": "x=" + "a b " * 200} for i in range(1000)
        ]
    }
    with running_server(tmp_path) as server:
        results: list[object] = []

        def call() -> None:
            try:
                r = _post(server, batch, timeout=60)
                results.append((r.status_code, len(r.json()["results"])))
            except Exception as exc:  # recorded and asserted below
                results.append(exc)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # the requests are being scored now
        os.kill(server.process.pid, signal.SIGTERM)
        for t in threads:
            t.join(90)
        assert results == [(200, 1000)] * 4, results
        assert server.process.wait(30) == 0, server.log()


def test_a_killed_worker_is_replaced_and_service_continues(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        before = _workers(server)
        assert len(before) == 2, before
        victim = sorted(before)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            now = _workers(server)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, f"worker not replaced: {now}\n{server.log()}"
            time.sleep(0.2)
        codes = [_post(server, CLEAN).status_code for _ in range(20)]
        assert codes == [200] * 20


def test_serve_also_runs_grpc_with_the_same_tokens(tmp_path: Path) -> None:
    import grpc

    from bastion.service.grpc.v1 import waf_pb2, waf_pb2_grpc

    grpc_port = free_port()
    with running_server(tmp_path, workers=1, BASTION_GRPC_PORT=str(grpc_port)) as server:
        request = waf_pb2.ScoreRequest(
            id="1", request=waf_pb2.HttpRequest(method="GET", uri="/?q=<script>alert(1)</script>")
        )
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            stub = waf_pb2_grpc.WafScoringStub(channel)
            result = stub.Score(request, metadata=[("authorization", f"Bearer {server.token}")])
            assert result.xss <= 20 and result.id == "1"
            try:
                stub.Score(request)
                raise AssertionError("a call without a token must be refused")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
