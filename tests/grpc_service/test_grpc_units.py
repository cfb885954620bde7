"""Message conversion, bearer-token parsing and the stream's bounded batch queue."""

from __future__ import annotations

import threading
import time

import pytest

from bastion.service.grpc.batching import BatchQueue
from bastion.service.grpc.convert import (
    error_result,
    to_http_request,
    to_proto_request,
    to_score_result,
)
from bastion.service.grpc.servicer import bearer_token
from bastion.service.grpc.v1 import waf_pb2 as pb
from bastion.waf import HttpRequest, RequestFormatError
from bastion.waf.request import MAX_JSON_BODY_BYTES
from bastion.waf.result import Explanation, WafResult


def test_request_round_trip_keeps_header_order_and_body() -> None:
    req = HttpRequest(
        "POST", "/a?b=1", (("Host", "x"), ("Cookie", "s=1"), ("cookie", "t=2")), b"\xff\x00z"
    )
    assert to_http_request(to_proto_request(req)) == req


def test_request_is_normalized_like_the_json_form() -> None:
    got = to_http_request(pb.HttpRequest(method="post", uri=""))
    assert got == HttpRequest.from_json({"method": "post", "uri": ""})
    assert (got.method, got.uri) == ("POST", "/")


def test_empty_method_is_rejected() -> None:
    with pytest.raises(RequestFormatError, match="'method'"):
        to_http_request(pb.HttpRequest(uri="/x"))


def test_body_over_the_json_limit_is_rejected() -> None:
    msg = pb.HttpRequest(method="POST", uri="/", body=b"a" * (MAX_JSON_BODY_BYTES + 1))
    with pytest.raises(RequestFormatError, match="byte limit"):
        to_http_request(msg)


def test_result_carries_every_field() -> None:
    expl = {
        "xss": Explanation("body:raw", "<svg onload=\ud800>", 3),
        "global": Explanation("body:raw", "<svg>", 3),
    }
    msg = to_score_result("id-1", WafResult(3, 90, 3, 95, expl, truncated=True), "waf-x")
    assert (msg.id, msg.score, msg.sqli, msg.xss, msg.rce) == ("id-1", 3, 90, 3, 95)
    assert getattr(msg, "class") == "attack"
    assert (msg.truncated, msg.model_version, msg.error) == (True, "waf-x", "")
    assert [(e.head, e.location, e.score) for e in msg.explanations] == [
        ("xss", "body:raw", 3),
        ("global", "body:raw", 3),
    ]
    # A lone surrogate cannot be sent as a protobuf string: it is replaced, not fatal.
    assert msg.explanations[0].snippet == "<svg onload=\ufffd>"
    pb.ScoreResult.FromString(msg.SerializeToString())


def test_error_result_has_no_scores() -> None:
    msg = error_result("7", "bad", "waf-x")
    assert (msg.id, msg.error, msg.score, msg.sqli, getattr(msg, "class")) == ("7", "bad", 0, 0, "")


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        (None, None),
        ([], None),
        ([("authorization", "Bearer abc")], "abc"),
        ([("x", "y"), ("authorization", "bearer  abc ")], "abc"),
        ([("authorization", "Basic abc")], None),
        ([("authorization", "Bearer ")], None),
        ([("authorization-bin", b"Bearer abc")], None),
    ],
)
def test_bearer_token(metadata: list[tuple[str, str | bytes]] | None, token: str | None) -> None:
    assert bearer_token(metadata) == token


def test_queue_gives_whatever_is_queued_up_to_the_batch_size() -> None:
    q: BatchQueue[int] = BatchQueue(max_items=10, max_bytes=1000)
    for i in range(5):
        assert q.put(i, 1)
    assert q.get_batch(3) == [0, 1, 2]
    assert q.get_batch(3) == [3, 4]
    q.finish()
    assert q.get_batch(3) == []


def _put_in_thread(q: BatchQueue[int], item: int, size: int) -> tuple[threading.Thread, list[bool]]:
    done: list[bool] = []
    t = threading.Thread(target=lambda: done.append(q.put(item, size)), daemon=True)
    t.start()
    return t, done


def test_queue_blocks_the_producer_at_the_item_bound() -> None:
    q: BatchQueue[int] = BatchQueue(max_items=2, max_bytes=1000)
    q.put(1, 1)
    q.put(2, 1)
    t, done = _put_in_thread(q, 3, 1)
    t.join(0.2)
    assert done == []  # still waiting for room
    assert q.get_batch(1) == [1]
    t.join(5)
    assert done == [True]
    assert q.get_batch(5) == [2, 3]


def test_queue_blocks_the_producer_at_the_size_bound_but_admits_one_large_item() -> None:
    q: BatchQueue[int] = BatchQueue(max_items=100, max_bytes=10)
    assert q.put(1, 50)  # larger than the bound, but the queue was empty
    t, done = _put_in_thread(q, 2, 1)
    t.join(0.2)
    assert done == []
    assert q.get_batch(10) == [1]
    t.join(5)
    assert done == [True]


def test_close_releases_a_blocked_producer() -> None:
    q: BatchQueue[int] = BatchQueue(max_items=1, max_bytes=10)
    q.put(1, 1)
    t, done = _put_in_thread(q, 2, 1)
    time.sleep(0.05)
    q.close()
    t.join(5)
    assert done == [False]
    assert q.get_batch(5) == []


def test_consumer_waits_for_the_first_item_only() -> None:
    q: BatchQueue[int] = BatchQueue(max_items=100, max_bytes=1000)
    got: list[list[int]] = []
    t = threading.Thread(target=lambda: got.append(q.get_batch(64)), daemon=True)
    t.start()
    time.sleep(0.05)
    q.put(42, 1)
    t.join(5)
    assert got == [[42]]  # one item, not a wait for 64
