#!/usr/bin/env python
"""Benchmark the gRPC scoring service over loopback: unary latency, batch and stream throughput.

Starts ``bastion.service.grpc.server.serve`` with ``--workers`` processes on a free loopback
port (SO_REUSEPORT), then measures, each against that server:

* unary ``Score`` latency from one client calling sequentially (mean/p50/p99 after warm-up),
  and the same on one ``ScoreStream`` whose client sends a request only after the last result;
* ``ScoreBatch`` throughput from one client sending batches of ``--batch`` requests in turn;
* ``ScoreStream`` throughput: ``--streams`` client processes, each with its own connection
  and one stream that pipelines ``--per-stream`` requests; scored requests/s is the total
  over the time from the first request sent to the last result received;

and, for scale, the scorer alone in this process (``score`` per request, ``score_batch`` in
batches of 64) on the same requests. Every request is distinct (``--source datagen``:
bastion's generators, one in three an attack placed in a realistic request; ``--source
shared``: web-log request lines of the shared dataset, good and bad queries), so the server's
cache of repeated values helps only as much as it would with real traffic (headers).

Client and server share the machine's cores, so on a small machine the clients' own CPU time
lowers the numbers; the table says how many cores there were.

    python benchmarks/grpc_bench.py --workers 2 --streams 4 --per-stream 5000
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import multiprocessing
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if importlib.util.find_spec("bastion") is None:
    sys.path.insert(0, str(ROOT / "src"))

import grpc  # noqa: E402

from bastion.service.grpc.convert import to_proto_request  # noqa: E402
from bastion.service.grpc.v1 import waf_pb2 as pb  # noqa: E402
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc  # noqa: E402
from bastion.waf import HttpRequest, load_scorer  # noqa: E402

CHANNEL_OPTIONS = [
    # One TCP connection per channel: the kernel spreads connections over the workers.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.max_send_message_length", 64 << 20),
    ("grpc.max_receive_message_length", 64 << 20),
]


# --------------------------------------------------------------------------- requests


def build_requests(n: int, seed: int, source: str) -> list[HttpRequest]:
    """``n`` distinct varied requests, one in three an attack."""
    from bastion.waf.datagen import (
        benign_request,
        generate_rce,
        generate_sqli,
        generate_xss,
        place,
    )

    rng = random.Random(seed)
    if source == "shared":
        from bastion.cli._common import default_shared_root

        root = default_shared_root()
        if root is None:
            sys.exit("--source shared: no shared dataset found (set BASTION_SHARED)")
        waf = root / "datasets" / "waf"
        good = (waf / "benign" / "fwaf_goodqueries_more.txt").read_text().splitlines()
        bad = (waf / "mixed" / "fwaf_badqueries.txt").read_text().splitlines()
        out = []
        for i in range(n):
            line = rng.choice(bad if i % 3 == 0 else good)
            uri = line if line.startswith("/") else "/" + line
            base = benign_request(rng)
            out.append(dataclasses.replace(base, method="GET", uri=uri, body=b""))
        return out
    k = max(50, n // 20)
    payloads = [
        s.value for s in generate_sqli(rng, k) + generate_xss(rng, k) + generate_rce(rng, k)
    ]
    return [
        place(rng.choice(payloads), rng)[0] if i % 3 == 0 else benign_request(rng) for i in range(n)
    ]


def wire(requests: list[HttpRequest], prefix: str) -> list[bytes]:
    return [
        pb.ScoreRequest(id=f"{prefix}{i}", request=to_proto_request(r)).SerializeToString()
        for i, r in enumerate(requests)
    ]


# --------------------------------------------------------------------------- server


def start_server(workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str, socket.socket]:
    """``serve`` in a child process on a reserved loopback port; wait until it answers."""
    reserved = socket.socket()
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserved.bind(("127.0.0.1", 0))
    target = f"127.0.0.1:{reserved.getsockname()[1]}"
    script = (
        "from bastion.service.grpc.server import serve\n"
        f"serve({target!r}, workers={workers}, model_path=None, threads={threads})\n"
    )
    env = dict(os.environ)
    if str(ROOT / "src") in sys.path:  # bastion is not installed: run it from the checkout
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])
        )
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    probe = pb.ScoreRequest(id="probe", request=pb.HttpRequest(method="GET", uri="/"))
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            sys.exit(f"server exited with status {proc.returncode}")
        with grpc.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
            try:
                pb_grpc.WafScoringStub(channel).Score(probe, timeout=5)
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    # Let the other workers finish loading too (they are not probed individually).
    time.sleep(1.0 + 0.5 * workers)
    return proc, target, reserved


# --------------------------------------------------------------------------- clients


def bench_unary(target: str, messages: list[bytes], warmup: int) -> list[float]:
    """Seconds per call, sequential calls on one connection (the first ``warmup`` dropped)."""
    msgs = [pb.ScoreRequest.FromString(m) for m in messages]
    times = []
    with grpc.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        score = pb_grpc.WafScoringStub(channel).Score
        for i, msg in enumerate(msgs):
            t0 = time.perf_counter()
            res = score(msg, timeout=30)
            t1 = time.perf_counter()
            assert res.id == msg.id and not res.error, res
            if i >= warmup:
                times.append(t1 - t0)
    return times


def bench_ping_pong(target: str, messages: list[bytes], warmup: int) -> list[float]:
    """Seconds per round trip on one stream whose client waits for each result."""
    msgs = [pb.ScoreRequest.FromString(m) for m in messages]
    outbox: queue.Queue[pb.ScoreRequest | None] = queue.Queue()
    times = []
    with grpc.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        responses = pb_grpc.WafScoringStub(channel).ScoreStream(iter(outbox.get, None))
        for i, msg in enumerate(msgs):
            t0 = time.perf_counter()
            outbox.put(msg)
            res = next(responses)
            t1 = time.perf_counter()
            assert res.id == msg.id and not res.error, res
            if i >= warmup:
                times.append(t1 - t0)
        outbox.put(None)
        for _ in responses:
            pass
    return times


def bench_batch(target: str, messages: list[bytes], batch: int) -> tuple[int, float]:
    msgs = [pb.ScoreRequest.FromString(m) for m in messages]
    calls = [pb.ScoreBatchRequest(requests=msgs[i : i + batch]) for i in range(0, len(msgs), batch)]
    with grpc.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        score_batch = pb_grpc.WafScoringStub(channel).ScoreBatch
        score_batch(calls[0], timeout=60)  # warm-up
        t0 = time.perf_counter()
        n = sum(len(score_batch(c, timeout=60).results) for c in calls)
        return n, time.perf_counter() - t0


def _stream_client(target: str, messages: list[bytes], ready: Any, go: Any, results: Any) -> None:
    msgs = [pb.ScoreRequest.FromString(m) for m in messages]
    channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.WafScoringStub(channel)
    ready.put(os.getpid())
    go.wait()
    t0 = time.monotonic()
    n = errors = 0
    in_order = True
    for res, msg in zip(stub.ScoreStream(iter(msgs), timeout=600), msgs, strict=True):
        n += 1
        errors += bool(res.error)
        in_order &= res.id == msg.id
    results.put((n, t0, time.monotonic(), errors, in_order))
    channel.close()


def bench_stream(target: str, per_client: list[list[bytes]]) -> tuple[int, float, int, bool]:
    """(scored, seconds from the first send to the last result, errors, all in order)."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_stream_client, args=(target, msgs, ready, go, results))
        for msgs in per_client
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    outs = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    start = min(o[1] for o in outs)
    end = max(o[2] for o in outs)
    return sum(o[0] for o in outs), end - start, sum(o[3] for o in outs), all(o[4] for o in outs)


def bench_inprocess(
    singles: list[HttpRequest], batched: list[HttpRequest]
) -> tuple[list[float], float]:
    """The scorer alone: seconds per ``score`` call, and for ``score_batch`` (64) of all."""
    scorer = load_scorer()
    for r in singles[:100]:
        scorer.score(r)
    times = []
    for r in singles[100:]:
        t0 = time.perf_counter()
        scorer.score(r)
        times.append(time.perf_counter() - t0)
    scorer = load_scorer()
    t0 = time.perf_counter()
    for i in range(0, len(batched), 64):
        scorer.score_batch(batched[i : i + 64])
    return times, time.perf_counter() - t0


# --------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def _latency_row(name: str, times: list[float]) -> str:
    times = sorted(times)
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    mean = statistics.fmean(times)
    return f"| {name} | {len(times)} | {_ms(mean)} | {_ms(p50)} | {_ms(p99)} | {1 / mean:,.0f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    ap.add_argument("--threads", type=int, default=16, help="threads per server process")
    ap.add_argument("--unary", type=int, default=2000, help="unary calls (first 200 warm-up)")
    ap.add_argument("--batch", type=int, default=256, help="requests per ScoreBatch call")
    ap.add_argument("--streams", type=int, default=0, help="stream clients (default 2*workers)")
    ap.add_argument("--per-stream", type=int, default=5000, help="requests per stream")
    ap.add_argument("--source", choices=("datagen", "shared"), default="datagen")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    streams = args.streams or 2 * args.workers

    t0 = time.perf_counter()
    unary_reqs = build_requests(args.unary, args.seed, args.source)
    stream_reqs = build_requests(streams * args.per_stream, args.seed + 1, args.source)
    unary_wire = wire(unary_reqs, "u")
    stream_wire = wire(stream_reqs, "s")
    per_client = [stream_wire[i::streams] for i in range(streams)]
    print(f"requests built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    proc, target, reserved = start_server(args.workers, args.threads)
    try:
        unary = bench_unary(target, unary_wire, warmup=200)
        ping_pong = bench_ping_pong(target, unary_wire, warmup=200)
        n_batch, s_batch = bench_batch(
            target, stream_wire[: max(args.batch * 20, 5000)], args.batch
        )
        n_stream, s_stream, errors, in_order = bench_stream(target, per_client)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reserved.close()
    local_times, local_s = bench_inprocess(unary_reqs, stream_reqs)

    print(
        f"\ngRPC WAF scoring over loopback: {args.workers} server worker(s) x {args.threads}"
        f" threads, {streams} stream client(s), source {args.source}, {os.cpu_count()} CPU"
        f" cores shared by clients and servers, Python {sys.version.split()[0]},"
        f" grpcio {grpc.__version__}\n"
    )
    print("| latency (one client, sequential) | calls | mean ms | p50 ms | p99 ms | calls/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(_latency_row("gRPC Score (unary)", unary))
    print(_latency_row("gRPC ScoreStream, one request at a time", ping_pong))
    print(_latency_row("scorer.score in process (no gRPC)", local_times))
    print("\n| throughput | requests | seconds | scored requests/s |")
    print("|---|---:|---:|---:|")
    rows = [
        (f"gRPC ScoreBatch ({args.batch}/call, one client)", n_batch, s_batch),
        (f"gRPC ScoreStream ({streams} stream(s) pipelining)", n_stream, s_stream),
        ("scorer.score_batch(64) in process, one core", len(stream_reqs), local_s),
    ]
    for name, n, seconds in rows:
        print(f"| {name} | {n} | {seconds:.2f} | {n / seconds:,.0f} |")
    if errors or not in_order:
        print(f"\nWARNING: stream errors {errors}, in order: {in_order}")


if __name__ == "__main__":
    main()
