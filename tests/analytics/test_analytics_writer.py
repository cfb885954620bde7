"""The request log across processes: the wire format, the shipper and the writer server
(real Unix socket, real DuckDB file), and ``bastion serve`` with its writer process."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from analytics_kit import FakeVerdict
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.analytics import CaptureOptions, JudgedBatch, ZoneIndex, wire
from bastion.analytics.queries import Query
from bastion.analytics.record import ColumnBatch
from bastion.rules import Decision
from bastion.service.analytics_log import RequestLog
from bastion.service.analytics_shipper import LogShipper
from bastion.service.analytics_writer import LogWriterServer
from bastion.store.analytics import open_analytics
from bastion.waf.request import HttpRequest
from bastion.waf.result import Explanation, WafResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_kit import running_server

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_header = st.tuples(
    st.sampled_from(["Host", "Cookie", "Authorization", "X-Real-IP", "X-Request-Id", "Accept"])
    | _text,
    _text,
)
_request = st.builds(
    HttpRequest,
    st.sampled_from(["GET", "POST", "PUT"]),
    st.from_regex(r"/[a-z0-9/]{0,20}(\?[a-z=&%0-9]{0,30})?(#[a-z]{0,5})?", fullmatch=True),
    st.lists(_header, max_size=6).map(tuple),
    st.binary(max_size=300),
)
_score = st.integers(1, 100)
_verdict = st.builds(
    FakeVerdict,
    st.builds(WafResult, _score, _score, _score, _score),
    st.builds(Decision, st.sampled_from(["allow", "block", "challenge"]), st.none() | _text),
)
OPTIONS = [
    CaptureOptions(max_body_bytes=64),
    CaptureOptions(max_body_bytes=0),
    CaptureOptions(keep_bodies=False, keep_cookies=False),
]


@st.composite
def _batches(draw: st.DrawFn) -> list[tuple[JudgedBatch, list[bool] | None]]:
    out: list[tuple[JudgedBatch, list[bool] | None]] = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 5))
        requests = draw(st.lists(_request, min_size=n, max_size=n))
        verdicts = draw(st.lists(_verdict, min_size=n, max_size=n))
        clients = draw(st.none() | st.lists(st.none() | _text, min_size=n, max_size=n))
        keep = draw(st.none() | st.lists(st.booleans(), min_size=n, max_size=n))
        batch = JudgedBatch(
            draw(st.floats(1e9, 2e9)), draw(st.sampled_from(["api", "edge"])), requests,
            verdicts, draw(_text), clients,
        )  # fmt: skip
        out.append((batch, keep))
    return out


def _columns_without_ids(batch: ColumnBatch) -> dict[str, list[object]]:
    return {k: v for k, v in batch.columns.items() if k != "id"}


@settings(max_examples=150, deadline=None)
@given(items=_batches(), option=st.sampled_from(OPTIONS))
def test_rows_through_the_wire_equal_rows_built_in_process(
    items: list[tuple[JudgedBatch, list[bool] | None]], option: CaptureOptions
) -> None:
    zones = ZoneIndex(["shop.example", "a.test"])
    direct = ColumnBatch()
    direct.add_many(items, zones, option)
    frame = wire.pack(items, option)
    length = wire.frame_length(frame[: wire.HEADER.size])
    assert length == len(frame) - wire.HEADER.size
    shipped = ColumnBatch()
    shipped.add_many([(b, None) for b in wire.unpack(frame[wire.HEADER.size :])], zones, option)
    assert _columns_without_ids(shipped) == _columns_without_ids(direct)


def test_explanations_travel_as_json() -> None:
    explained = WafResult(5, 5, 90, 90, {"sqli": Explanation("query:q", "' or 1=1", 5)})
    batch = JudgedBatch(
        1.7e9, "api", [HttpRequest("GET", "/?q=%27+or+1%3D1")],
        [FakeVerdict(explained, Decision("block", "r1"))], "m1",
    )  # fmt: skip
    direct, shipped = ColumnBatch(), ColumnBatch()
    direct.add_many([(batch, None)], ZoneIndex(), CaptureOptions())
    frame = wire.pack([(batch, None)], CaptureOptions())
    (back,) = wire.unpack(frame[wire.HEADER.size :])
    shipped.add_many([(back, None)], ZoneIndex(), CaptureOptions())
    assert shipped.columns["explanation"] == direct.columns["explanation"] != [""]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"XXXX\x00\x00\x00\x01", "not a request-log frame"),
        (wire.HEADER.pack(wire.MAGIC, wire.MAX_FRAME_BYTES + 1), "exceeds"),
        (b"BLW", "truncated"),
    ],
)
def test_bad_frame_headers_are_named(data: bytes, message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.frame_length(data)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00garbage", b"\xe9\x02\x00\x00\x00", wire.pack([], CaptureOptions())[8:-1]],
)
def test_malformed_payloads_raise_wire_errors(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.unpack(payload)


def _requests_in(url: str) -> int:
    store = open_analytics(url)
    try:
        return int(store.fetch(Query("SELECT count(*) FROM requests"))[0][0])
    finally:
        store.close()


def _judged(n: int, start: int = 0) -> JudgedBatch:
    reqs = [HttpRequest("GET", f"/p?i={start + i}", (("Host", "a.test"),)) for i in range(n)]
    verdicts = [FakeVerdict(WafResult(90, 90, 90, 90), Decision("allow")) for _ in reqs]
    return JudgedBatch(time.time(), "api", reqs, verdicts, "m1")


def test_shipper_to_writer_over_a_real_socket(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'log.duckdb'}"
    socket_path = str(tmp_path / "w.sock")
    shipper = LogShipper(socket_path, ship_interval_s=0.05, retry_s=0.05)
    shipper.start()
    try:
        # No writer yet: dropped and counted, never blocking scoring.
        shipper(_judged(3))
        assert shipper.flush() is False and shipper.dropped == 3
        request_log = RequestLog(open_analytics(url), flush_interval_s=0.05)
        request_log.start()
        server = LogWriterServer(socket_path, request_log)
        server.bind()
        server.serve_in_background()
        assert oct(os.stat(socket_path).st_mode & 0o777) == "0o600"
        time.sleep(0.1)  # past retry_s
        for i in range(10):
            shipper(_judged(5, start=i * 5))
        deadline = time.monotonic() + 20
        while server.received < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.received == 50
    finally:
        shipper.close()
    server.close(drain_s=5)  # writes what it holds and closes the store
    assert _requests_in(url) == 50 and shipper.shipped == 50


def test_a_worker_sending_garbage_is_cut_off_not_fatal(tmp_path: Path) -> None:
    import socket

    url = f"duckdb:///{tmp_path / 'log.duckdb'}"
    socket_path = str(tmp_path / "w.sock")
    server = LogWriterServer(socket_path, RequestLog(open_analytics(url)))
    server.bind()
    server.serve_in_background()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bad:
        bad.connect(socket_path)
        bad.sendall(b"GET / HTTP/1.1\r\n\r\n")
        bad.settimeout(10)
        try:
            got = bad.recv(10)
        except ConnectionResetError:  # it hung up with our unread bytes in its buffer
            got = b""
        assert got == b""  # the writer hung up
    shipper = LogShipper(socket_path)
    shipper(_judged(4))
    assert shipper.flush() is True
    shipper.close()
    server.close(drain_s=5)
    assert server.rejected_frames == 1 and _requests_in(url) == 4


def test_serve_runs_a_writer_process_and_loses_nothing_on_sigterm(tmp_path: Path) -> None:
    n = 60
    # A long flush interval: what reaches the store is written by the shutdown path.
    with running_server(tmp_path, workers=2, BASTION_ANALYTICS_FLUSH_S="30") as server:
        auth = {"Authorization": f"Bearer {server.token}", "Connection": "close"}
        with httpx.Client(timeout=30) as client:
            for i in range(n):
                body = {"method": "GET", "uri": f"/p?i={i}", "headers": [["Host", "a.test"]]}
                r = client.post(f"{server.url}/v1/waf/score", json=body, headers=auth)
                assert r.status_code == 200
        os.killpg(server.process.pid, signal.SIGTERM)
        assert server.process.wait(60) == 0
        assert "analytics writer: listening" in server.log()
    assert _requests_in(f"duckdb:///{tmp_path / 'server-analytics.duckdb'}") == n
