"""The SSRF-safe fetcher never reaches a forbidden address, and its limits hold for real.

Every test that could reach a local server records each TCP connection the process opens
(``socket.create_connection``, which httpcore uses) and each request the server sees, so
"refused" means "no connection was attempted", not just "an exception came back".
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fetch_kit import can_bind, port_of, serve
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.net.addresses import BadIPSpelling, address_kind, is_allowed, parse_ip_host
from bastion.net.fetch import (
    FetchError,
    FetchPolicy,
    FetchTimeout,
    ForbiddenAddress,
    InvalidTarget,
    ResolveError,
    ResponseTooLarge,
    SafeFetcher,
    TooManyRedirects,
)

LOOPBACK = FetchPolicy(allow=frozenset({"loopback"}), timeout_s=5.0)
ONLY_127_0_0_1 = FetchPolicy(
    allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), timeout_s=5.0
)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every (address, port) this process connects to during the test."""
    seen: list[tuple[str, int]] = []
    real = socket.create_connection

    def spy(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append((str(address[0]), int(address[1])))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return seen


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with serve("127.0.0.1") as s:
        yield s


@pytest.fixture(scope="module")
def second_server() -> Iterator[Any]:
    """A server on 127.0.0.2: loopback too, but outside ``ONLY_127_0_0_1``."""
    with serve("127.0.0.2") as s:
        yield s


# --- addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::1", "private"),
        ("fec0::1", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link_local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a9fe:a9fe::1", "link_local"),
        ("::7f00:1", "reserved"),
        ("64:ff9b::7f00:1", "reserved"),
        ("2001:db8::1", "private"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("::ffff:93.184.216.34", None),
        ("2002:5db8:d822::1", None),
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_allowed_kinds_and_networks() -> None:
    lo = ipaddress.ip_address("127.0.0.1")
    assert is_allowed(lo) == (False, "loopback")
    assert is_allowed(lo, {"loopback"}) == (True, "loopback")
    assert is_allowed(lo, (), [ipaddress.ip_network("127.0.0.0/30")]) == (True, "loopback")
    mapped = ipaddress.ip_address("::ffff:127.0.0.1")
    assert is_allowed(mapped, (), [ipaddress.ip_network("127.0.0.1/32")])[0]
    assert not is_allowed(ipaddress.ip_address("10.0.0.1"), {"loopback"})[0]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("shop.example", None),
        ("127.0.0.1.nip.example", None),
        ("0x.example", None),
    ],
)
def test_ip_spellings(host: str, expected: str | None) -> None:
    got = parse_ip_host(host)
    assert got == (ipaddress.ip_address(expected) if expected is not None else None)


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "256.1.1.1", "1.2.3.0x100", "08.1", "4294967296", "1.2.65536"]
)
def test_numeric_hosts_that_are_no_address_are_refused(host: str) -> None:
    with pytest.raises(BadIPSpelling):
        parse_ip_host(host)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_ipv4_spelling_means_the_same_address(n: int) -> None:
    ip = ipaddress.IPv4Address(n)
    a, b, c, d = ip.packed
    spellings = [
        str(ip),
        str(n),
        hex(n),
        "0" + format(n, "o"),
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
        f"0x{a:x}.0{b:o}.{c}.0x{d:X}",
    ]
    for spelling in spellings:
        assert parse_ip_host(spelling) == ip, spelling


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_embedded_ipv4_is_judged_like_the_address(n: int) -> None:
    v4 = ipaddress.IPv4Address(n)
    kind = address_kind(v4)
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    assert address_kind(mapped) == kind
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | 1)
    if kind is not None:
        assert address_kind(sixtofour) == kind
    else:
        assert address_kind(sixtofour) is None


# --- refusals: nothing is ever connected ----------------------------------------------


SPELLINGS_OF_THE_SERVER = [
    "127.0.0.1",
    "2130706433",
    "0x7f000001",
    "017700000001",
    "127.1",
    "0x7f.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "localhost",
]


@pytest.mark.parametrize("host", SPELLINGS_OF_THE_SERVER)
def test_loopback_spellings_are_refused_and_work_when_allowed(
    host: str, server: Any, connections: list[tuple[str, int]]
) -> None:
    url = f"http://{host}:{port_of(server)}/ok"
    before = len(server.hits)
    with pytest.raises(ForbiddenAddress) as info:
        SafeFetcher(FetchPolicy(timeout_s=5.0)).fetch(url)
    assert info.value.kind == "loopback"
    assert connections == [] and len(server.hits) == before
    # The same spelling does reach the server when loopback is allowed, so the refusal
    # above is the policy's doing, not a URL that leads nowhere. (IPv4-mapped IPv6 goes
    # through an IPv6 socket, which a dual-stack kernel maps to 127.0.0.1.)
    if host.startswith("[::ffff") and not can_bind("::1"):
        return
    result = SafeFetcher(LOOPBACK).fetch(url)
    assert result.status == 200 and result.body == b"console.log('hello');"
    assert len(server.hits) == before + 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0251.0376.0251.0376/",
        "http://0xa9fea9fe/",
        "http://10.0.0.1/",
        "http://192.168.0.1:8080/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[::1]/",
        "http://[::]/",
        "http://0/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://255.255.255.255/",
    ],
)
def test_forbidden_literals_are_never_connected(
    url: str, connections: list[tuple[str, int]]
) -> None:
    with pytest.raises((ForbiddenAddress, InvalidTarget)):
        SafeFetcher(FetchPolicy(timeout_s=2.0)).fetch(url)
    assert connections == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://example.com/",
        "javascript:alert(1)",
        "//example.com/x",
        "http://user:pw@example.com/",
        "http://example.com@127.0.0.1/",
        "http:///nohost",
        "http://1.2.3.4.5/",
        "http://999.1.1.1/",
        "not a url",
    ],
)
def test_bad_urls_are_refused(url: str, connections: list[tuple[str, int]]) -> None:
    with pytest.raises(FetchError) as info:
        SafeFetcher(FetchPolicy(timeout_s=2.0)).fetch(url)
    assert isinstance(info.value, (InvalidTarget, ForbiddenAddress))
    assert connections == []


def _resolver(
    table: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["::1"],
        ["93.184.216.34", "127.0.0.1"],  # one bad address is enough to refuse
        ["169.254.169.254"],
        ["::ffff:10.0.0.1"],
        ["fe80::1%1"],
    ],
)
def test_names_resolving_to_forbidden_addresses_are_refused(
    answer: list[str], server: Any, connections: list[tuple[str, int]]
) -> None:
    fetcher = SafeFetcher(FetchPolicy(timeout_s=2.0), _resolver({"cdn.attacker.test": answer}))
    with pytest.raises(ForbiddenAddress, match="resolves to it"):
        fetcher.fetch(f"http://cdn.attacker.test:{port_of(server)}/ok")
    assert connections == []


def test_the_system_resolver_is_used_by_default(connections: list[tuple[str, int]]) -> None:
    with pytest.raises(ForbiddenAddress, match="localhost resolves to it"):
        SafeFetcher(FetchPolicy(timeout_s=2.0)).fetch("http://localhost/")
    with pytest.raises(ResolveError):
        SafeFetcher(FetchPolicy(timeout_s=2.0)).fetch("http://no-such-host.invalid/")
    assert connections == []


@pytest.mark.parametrize(
    "to",
    [
        "http://127.0.0.2:{p2}/ok",
        "http://0x7f000002:{p2}/ok",
        "http://2130706434:{p2}/ok",
        "http://[::1]:{p2}/ok",
        "http://[::ffff:127.0.0.2]:{p2}/ok",
        "http://169.254.169.254/latest/meta-data/",
        "http://rebound.test:{p2}/ok",
        "file:///etc/passwd",
    ],
)
def test_redirects_to_forbidden_addresses_are_refused(
    to: str, server: Any, second_server: Any, connections: list[tuple[str, int]]
) -> None:
    p1, p2 = port_of(server), port_of(second_server)
    target = to.format(p2=p2)
    fetcher = SafeFetcher(ONLY_127_0_0_1, _resolver({"rebound.test": ["127.0.0.2"]}))
    start = f"http://127.0.0.1:{p1}/redirect?to={target}"
    with pytest.raises((ForbiddenAddress, InvalidTarget)):
        fetcher.fetch(start)
    assert second_server.hits == []
    assert {address for address, _ in connections} == {"127.0.0.1"}


def test_each_hop_is_resolved_once_and_pinned(
    server: Any, connections: list[tuple[str, int]]
) -> None:
    """DNS rebinding: the name is looked up once per hop, the connection goes to that
    answer, and a later hop that resolves elsewhere is checked again and refused."""
    p = port_of(server)
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    fetcher = SafeFetcher(ONLY_127_0_0_1, rebinding)
    with pytest.raises(ForbiddenAddress, match=r"127\.0\.0\.2"):
        fetcher.fetch(f"http://app.test:{p}/redirect?to=http://app.test:{p}/ok")
    assert calls == ["app.test", "app.test"]
    assert connections == [("127.0.0.1", p)]
    # The Host header (and so virtual hosting) is the name, not the pinned address.
    result = SafeFetcher(ONLY_127_0_0_1, _resolver({"app.test": ["127.0.0.1"]})).fetch(
        f"http://app.test:{p}/host"
    )
    assert result.body == f"app.test:{p}".encode()
    assert result.address == "127.0.0.1"


def test_redirects_are_followed_within_the_limit(server: Any) -> None:
    p = port_of(server)
    fetcher = SafeFetcher(FetchPolicy(allow=frozenset({"loopback"}), max_redirects=3))
    result = fetcher.fetch(f"http://127.0.0.1:{p}/chain/3")
    assert result.status == 200 and result.body == b"end"
    assert result.final_url == f"http://127.0.0.1:{p}/chain/0"
    assert len(result.redirects) == 3
    with pytest.raises(TooManyRedirects):
        fetcher.fetch(f"http://127.0.0.1:{p}/chain/4")
    with pytest.raises(TooManyRedirects):
        fetcher.fetch(f"http://127.0.0.1:{p}/loop")
    for status in (301, 303, 307, 308):
        r = fetcher.fetch(f"http://127.0.0.1:{p}/redirect?status={status}&to=/ok")
        assert r.status == 200 and r.redirects == (f"http://127.0.0.1:{p}/ok",)


def test_size_limits(server: Any) -> None:
    p = port_of(server)
    fetcher = SafeFetcher(FetchPolicy(allow=frozenset({"loopback"}), max_bytes=1 << 20))
    with pytest.raises(ResponseTooLarge, match="52428800"):
        fetcher.fetch(f"http://127.0.0.1:{p}/big")
    started = time.monotonic()
    with pytest.raises(ResponseTooLarge):
        fetcher.fetch(f"http://127.0.0.1:{p}/stream?chunks=100000")  # 6.5 GB if read whole
    assert time.monotonic() - started < 5
    with pytest.raises(ResponseTooLarge):
        fetcher.fetch(f"http://127.0.0.1:{p}/bomb")
    ok = fetcher.fetch(f"http://127.0.0.1:{p}/stream?chunks=16")
    assert ok.body == b"y" * (16 * 65536)
    assert fetcher.fetch(f"http://127.0.0.1:{p}/gzip").body == b"var a = 1;\n" * 100


def test_the_whole_fetch_ends_in_time(server: Any) -> None:
    p = port_of(server)
    fetcher = SafeFetcher(FetchPolicy(allow=frozenset({"loopback"}), timeout_s=1.0))
    for path in ("/drip", "/hang?s=4"):
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            fetcher.fetch(f"http://127.0.0.1:{p}{path}")
        assert time.monotonic() - started < 1.8, path


def test_slow_resolution_counts_against_the_time_limit() -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(2)
        return ["93.184.216.34"]

    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        SafeFetcher(FetchPolicy(timeout_s=0.5), slow).fetch("http://slow.test/")
    assert time.monotonic() - started < 1.5


def test_ports_can_be_restricted(server: Any, connections: list[tuple[str, int]]) -> None:
    policy = FetchPolicy(allow=frozenset({"loopback"}), ports=frozenset({80, 443}))
    with pytest.raises(InvalidTarget, match="port"):
        SafeFetcher(policy).fetch(f"http://127.0.0.1:{port_of(server)}/ok")
    assert connections == []
