"""Helpers of the gRPC service tests: a real server on 127.0.0.1 and varied requests.

(A module of its own: conftest.py files share one module name, so tests cannot import them.)
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from bastion.service.grpc.server import build_server
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf import HttpRequest
from bastion.waf.datagen import benign_request, generate_rce, generate_sqli, generate_xss, place
from bastion.waf.scorer import Scorer


@contextmanager
def running_server(scorer: Scorer, **kwargs: Any) -> Iterator[pb_grpc.WafScoringStub]:
    """A started server on an ephemeral loopback port and a stub on a channel to it."""
    server = build_server(scorer, **kwargs)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.WafScoringStub(channel)
    finally:
        channel.close()
        server.stop(None).wait()


def mixed_requests(n: int, seed: int) -> list[HttpRequest]:
    """``n`` varied realistic requests, one in three carrying a generated attack."""
    rng = random.Random(seed)
    payloads = [
        s.value for s in generate_sqli(rng, 40) + generate_xss(rng, 40) + generate_rce(rng, 40)
    ]
    return [
        place(rng.choice(payloads), rng)[0] if i % 3 == 0 else benign_request(rng) for i in range(n)
    ]
