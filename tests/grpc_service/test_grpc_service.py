"""The WafScoring service over a real loopback connection: unary, batch, stream, auth, limits."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_helpers import mixed_requests, running_server

from bastion.service.grpc.convert import to_proto_request
from bastion.service.grpc.v1 import waf_pb2 as pb
from bastion.service.grpc.v1 import waf_pb2_grpc as pb_grpc
from bastion.waf import HttpRequest
from bastion.waf.result import WafResult
from bastion.waf.scorer import Scorer

SQLI = HttpRequest("GET", "/search?q=1%27+or+1%3D1--", (("Host", "shop.example"),))
XSS = HttpRequest(
    "POST",
    "/comment",
    (("Host", "shop.example"), ("Content-Type", "application/x-www-form-urlencoded")),
    b"name=bob&text=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
)
CLEAN = HttpRequest(
    "GET",
    "/products/shoes?size=10&color=red",
    (("Host", "shop.example"), ("User-Agent", "Mozilla/5.0"), ("Accept-Language", "en-US")),
)
INVALID = pb.HttpRequest(method="", uri="/x")


def item(request: HttpRequest, item_id: str, *, explain: bool = False) -> pb.ScoreRequest:
    return pb.ScoreRequest(id=item_id, request=to_proto_request(request), explain=explain)


def assert_same(got: pb.ScoreResult, want: WafResult, scorer: Scorer) -> None:
    assert got.error == ""
    assert (got.score, got.sqli, got.xss, got.rce) == (want.score, want.sqli, want.xss, want.rce)
    assert getattr(got, "class") == want.cls
    assert got.truncated == want.truncated
    assert got.model_version == scorer.version
    want_expl = [(h, e.location, e.snippet, e.score) for h, e in (want.explanations or {}).items()]
    assert [(e.head, e.location, e.snippet, e.score) for e in got.explanations] == want_expl


def test_score_attack_and_clean(stub: pb_grpc.WafScoringStub, reference: Scorer) -> None:
    attack = stub.Score(item(SQLI, "a1"), timeout=10)
    clean = stub.Score(item(CLEAN, "c1"), timeout=10)
    assert (attack.id, clean.id) == ("a1", "c1")
    assert_same(attack, reference.score(SQLI), reference)
    assert_same(clean, reference.score(CLEAN), reference)
    assert getattr(attack, "class") == "attack"
    assert getattr(clean, "class") == "clean"
    assert attack.explanations == []


def test_score_with_explanations(stub: pb_grpc.WafScoringStub, reference: Scorer) -> None:
    got = stub.Score(item(XSS, "x", explain=True), timeout=10)
    assert_same(got, reference.score(XSS, explain=True), reference)
    heads = {e.head: e for e in got.explanations}
    assert {"xss", "global"} <= heads.keys()
    assert heads["xss"].location == "body:form:text"
    assert "script" in heads["xss"].snippet
    assert heads["global"].score == got.score


def test_score_of_an_invalid_request_is_invalid_argument(stub: pb_grpc.WafScoringStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.Score(pb.ScoreRequest(id="1", request=INVALID), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'method'" in err.value.details()


def test_batch_keeps_order_scores_and_per_item_errors(
    stub: pb_grpc.WafScoringStub, reference: Scorer
) -> None:
    reqs = mixed_requests(120, seed=1)
    items = [item(r, f"r{i}", explain=i % 4 == 0) for i, r in enumerate(reqs)]
    for i in (0, 57, 119):
        items[i] = pb.ScoreRequest(id=f"bad{i}", request=INVALID)
    got = stub.ScoreBatch(pb.ScoreBatchRequest(requests=items), timeout=30).results
    assert [r.id for r in got] == [it.id for it in items]
    for i, (res, req) in enumerate(zip(got, reqs, strict=True)):
        if i in (0, 57, 119):
            assert "'method'" in res.error
            assert (res.score, res.sqli, res.xss, res.rce) == (0, 0, 0, 0)
            assert getattr(res, "class") == ""
        else:
            assert_same(res, reference.score(req, explain=i % 4 == 0), reference)
    assert {getattr(r, "class") for r in got} >= {"attack", "clean"}


def test_batch_over_the_limit_is_refused(scorer: Scorer) -> None:
    with running_server(scorer, max_batch=10) as stub:
        ok = stub.ScoreBatch(pb.ScoreBatchRequest(requests=[item(CLEAN, "c")] * 10), timeout=10)
        assert len(ok.results) == 10
        with pytest.raises(grpc.RpcError) as err:
            stub.ScoreBatch(pb.ScoreBatchRequest(requests=[item(CLEAN, "c")] * 11), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit of 10" in err.value.details()


def test_stream_of_pipelined_requests_keeps_order(
    stub: pb_grpc.WafScoringStub, reference: Scorer
) -> None:
    reqs = mixed_requests(2000, seed=2)
    items = [item(r, str(i), explain=i % 50 == 0) for i, r in enumerate(reqs)]
    got = list(stub.ScoreStream(iter(items), timeout=60))
    assert [r.id for r in got] == [str(i) for i in range(2000)]
    for i, (res, req) in enumerate(zip(got, reqs, strict=True)):
        assert_same(res, reference.score(req, explain=i % 50 == 0), reference)


def test_stream_answers_a_client_that_waits_for_each_result(
    stub: pb_grpc.WafScoringStub, reference: Scorer
) -> None:
    # The client sends the next request only after the previous answer: a server that
    # waited for a fuller batch (or for the end of the stream) would never answer.
    outbox: queue.Queue[pb.ScoreRequest | None] = queue.Queue()

    def requests() -> Iterator[pb.ScoreRequest]:
        while (msg := outbox.get()) is not None:
            yield msg

    reqs = [SQLI, CLEAN, XSS] * 10
    start = time.perf_counter()
    responses = stub.ScoreStream(requests(), timeout=20)
    for i, req in enumerate(reqs):
        outbox.put(item(req, f"p{i}"))
        res = next(responses)
        assert res.id == f"p{i}"
        assert_same(res, reference.score(req), reference)
    outbox.put(None)
    assert list(responses) == []
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"30 round trips took {elapsed:.2f} s"


def test_invalid_items_do_not_end_a_stream(stub: pb_grpc.WafScoringStub) -> None:
    items = [item(SQLI, "0"), pb.ScoreRequest(id="1", request=INVALID), item(CLEAN, "2")] * 50
    got = list(stub.ScoreStream(iter(items), timeout=30))
    assert [r.id for r in got] == [it.id for it in items]
    assert all(("'method'" in r.error) == (r.id == "1") for r in got)
    assert all(r.score > 0 for r in got if r.id != "1")


def test_authorize_hook_gets_the_bearer_token(scorer: Scorer) -> None:
    seen: list[str | None] = []

    def authorize(token: str | None) -> bool:
        seen.append(token)
        return token == "s3cret"

    calls = {
        "Score": lambda stub, md: stub.Score(item(CLEAN, "u"), metadata=md, timeout=10),
        "ScoreBatch": lambda stub, md: stub.ScoreBatch(
            pb.ScoreBatchRequest(requests=[item(CLEAN, "b")]), metadata=md, timeout=10
        ),
        "ScoreStream": lambda stub, md: list(
            stub.ScoreStream(iter([item(CLEAN, "s")]), metadata=md, timeout=10)
        ),
    }
    with running_server(scorer, authorize=authorize) as stub:
        for name, call in calls.items():
            for md in (None, [("authorization", "Bearer wrong")], [("authorization", "s3cret")]):
                with pytest.raises(grpc.RpcError) as err:
                    call(stub, md)
                assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
                assert "Bearer" in err.value.details()
            assert call(stub, [("authorization", "Bearer s3cret")]), name
    assert seen == [None, "wrong", None, "s3cret"] * 3


def test_calls_beyond_the_thread_pool_fail_fast_and_cancelled_streams_free_it(
    scorer: Scorer,
) -> None:
    with running_server(scorer, threads=1) as stub:
        outbox: queue.Queue[pb.ScoreRequest | None] = queue.Queue()
        stream = stub.ScoreStream(iter(outbox.get, None), timeout=20)
        outbox.put(item(CLEAN, "s"))
        assert next(stream).id == "s"  # the stream now holds the only thread
        with pytest.raises(grpc.RpcError) as err:
            stub.Score(item(CLEAN, "u"), timeout=10)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        stream.cancel()
        # The server notices the cancellation asynchronously; then its thread is free.
        deadline = time.monotonic() + 10
        while True:
            try:
                assert stub.Score(item(CLEAN, "u"), timeout=10).id == "u"
                break
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)


def test_a_second_server_on_a_busy_port_fails(scorer: Scorer) -> None:
    from bastion.service.grpc.server import build_server

    first = build_server(scorer)
    port = first.add_insecure_port("127.0.0.1:0")
    second = build_server(scorer)
    try:
        with pytest.raises(RuntimeError):
            second.add_insecure_port(f"127.0.0.1:{port}")
    finally:
        first.stop(None)
        second.stop(None)


def test_concurrent_clients_get_their_own_results(
    stub: pb_grpc.WafScoringStub, reference: Scorer
) -> None:
    reqs = mixed_requests(300, seed=3)
    errors: list[BaseException] = []

    def client(offset: int) -> None:
        try:
            mine = reqs[offset::3]
            got = list(stub.ScoreStream(iter([item(r, "x") for r in mine]), timeout=30))
            for res, req in zip(got, mine, strict=True):
                assert_same(res, reference.score(req), reference)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
