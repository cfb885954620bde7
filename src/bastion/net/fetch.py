"""Fetch a URL on behalf of an untrusted party without letting it reach inside the network.

:class:`SafeFetcher` is the only way bastion fetches URLs that reports name (script bodies
for the script monitor, reported pages for the abuse desk). For every hop it

1. parses the URL with httpx and accepts only ``http`` and ``https``, no user info, and
   (when configured) only some ports;
2. reads the host as an IP address in any spelling (``2130706433``, ``0x7f.1``, ``[::1]``)
   or else resolves it **itself**, once, with a bounded wait;
3. refuses the hop if any resolved address is loopback, private, link-local, multicast,
   reserved or unspecified (IPv4-mapped, 6to4 and Teredo forms judged by the embedded
   address), unless :attr:`FetchPolicy.allow` or :attr:`FetchPolicy.allowed_networks` say so;
4. connects to a vetted address only: the transport's network backend maps the host to
   the addresses of step 3 and never calls a resolver, so a DNS answer that changes between
   check and use (rebinding) cannot redirect the connection; the URL keeps its hostname, so
   the ``Host`` header, TLS SNI and certificate checks are those of the name;
5. follows redirects by hand, each hop going through steps 1-4, up to
   :attr:`FetchPolicy.max_redirects`.

The body is streamed and the fetch stops as soon as it would exceed
:attr:`FetchPolicy.max_bytes` (compressed bodies are inflated with the same bound, so a
decompression bomb stops too); every socket operation's timeout is clamped to what is left
of :attr:`FetchPolicy.timeout_s`, so the whole fetch, redirects included, ends in time.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import certifi
import httpcore
import httpx

from bastion import __version__
from bastion.net.addresses import (
    AddressKind,
    BadIPSpelling,
    IPAddress,
    IPNetwork,
    is_allowed,
    parse_ip_host,
)

#: ``resolver(host, port)`` -> IP address strings (tests inject their own).
Resolver = Callable[[str, int], Sequence[str]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchError(Exception):
    """A fetch that did not produce a response; ``code`` names the reason."""

    code = "fetch_failed"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidTarget(FetchError):
    """Not an absolute http(s) URL the fetcher accepts."""

    code = "invalid_url"


class ForbiddenAddress(FetchError):
    """The host is, or resolves to, an address the policy forbids."""

    code = "forbidden_address"

    def __init__(self, message: str, *, url: str | None = None, kind: str | None = None) -> None:
        super().__init__(message, url=url)
        self.kind = kind


class ResolveError(FetchError):
    """The host name does not resolve (in time)."""

    code = "dns"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class ResponseTooLarge(FetchError):
    code = "too_large"


class FetchTimeout(FetchError):
    code = "timeout"


class ConnectFailed(FetchError):
    code = "connect"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetcher."""

    #: Address kinds reachable anyway (e.g. ``{"loopback"}`` for a local test server).
    allow: frozenset[AddressKind] = frozenset()
    #: Networks reachable whatever their kind (an internal CDN, say).
    allowed_networks: tuple[IPNetwork, ...] = ()
    #: Ports a URL may name; ``None`` allows any.
    ports: frozenset[int] | None = None
    #: Largest body (after decompression), in bytes.
    max_bytes: int = 5 << 20
    #: Seconds for the whole fetch: resolution, connections, redirects and the body.
    timeout_s: float = 10.0
    max_redirects: int = 5
    user_agent: str = f"bastion-fetcher/{__version__}"
    #: Verify TLS certificates (turn off only in tests).
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.timeout_s <= 0 or self.max_redirects < 0:
            raise ValueError("max_bytes >= 1, timeout_s > 0 and max_redirects >= 0 are required")


@dataclass(frozen=True)
class FetchResult:
    """A response's status, headers and (whole) body, and how it was reached."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    #: The vetted address the last hop connected to.
    address: str
    redirects: tuple[str, ...] = ()
    elapsed_s: float = 0.0

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name == "content-type":
                return value
        return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: Threads for name resolution: ``getaddrinfo`` cannot be interrupted, so a lookup that
#: outlives the fetch's deadline is left to finish here while the fetch gives up.
_RESOLVER_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bastion-dns")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def clamp(self, timeout: float | None) -> float:
        left = self.left()
        if left <= 0:
            raise httpcore.ReadTimeout("the fetch's time limit is spent")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every operation ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clamp(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects a host only to the addresses vetted for it; never resolves a name."""

    def __init__(self, deadline: _Deadline) -> None:
        self.pins: dict[str, list[str]] = {}
        self.deadline = deadline
        self.connected: str | None = None
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.pins.get(host)
        if not addresses:
            raise httpcore.ConnectError(f"{host!r} was not vetted; refusing to connect")
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._tcp.connect_tcp(
                    address,
                    port,
                    timeout=self.deadline.clamp(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last = exc
                continue
            self.connected = address
            return _DeadlineStream(stream, self.deadline)
        raise last if last is not None else httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used by the safe fetcher")


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        stream = self._response.stream
        assert isinstance(stream, Iterable)
        yield from stream

    def close(self) -> None:
        self._response.close()


class _PinnedTransport(httpx.BaseTransport):
    """httpx's transport over an httpcore pool whose network backend is pinned."""

    def __init__(self, backend: _PinnedBackend, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=backend, retries=0, max_connections=4
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _Inflater:
    """Content-Encoding decoding that never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.produced = 0
        self._z: Any = None
        self._first = True
        names = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")
        self._mode = names[0] if names else "identity"
        if self._mode in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self._mode == "identity":
            out = data
        else:
            if self._z is None:  # deflate: zlib-wrapped, or raw from broken servers
                raw = not (data[:1] and data[0] & 0x0F == 8)
                self._z = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            chunks = []
            room = self.limit - self.produced + 1
            try:
                chunk = self._z.decompress(data, room)
                chunks.append(chunk)
                while self._z.unconsumed_tail and sum(map(len, chunks)) < room:
                    chunks.append(
                        self._z.decompress(self._z.unconsumed_tail, room - sum(map(len, chunks)))
                    )
            except zlib.error as exc:
                raise FetchError(f"the body does not decompress: {exc}") from None
            out = b"".join(chunks)
        self.produced += len(out)
        if self.produced > self.limit:
            raise ResponseTooLarge(f"the body exceeds {self.limit} bytes")
        return out


@dataclass
class SafeFetcher:
    """GET URLs under a :class:`FetchPolicy`; thread-safe (each fetch has its own client)."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)
    resolver: Resolver = system_resolver
    _ssl: ssl.SSLContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ctx = ssl.create_default_context(cafile=certifi.where())
        if not self.policy.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self._ssl = ctx

    # -- checks ---------------------------------------------------------------------------

    def vet(self, url: str, deadline: _Deadline | None = None) -> tuple[httpx.URL, list[str]]:
        """The parsed URL and the vetted addresses of its host; raises :class:`FetchError`."""
        deadline = deadline or _Deadline(self.policy.timeout_s)
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise InvalidTarget(f"not a valid URL: {exc}", url=url) from None
        if target.scheme not in _DEFAULT_PORTS:
            raise InvalidTarget(
                f"only http and https URLs are fetched, not {target.scheme or '(none)'!r}", url=url
            )
        if target.userinfo:
            raise InvalidTarget("URLs with user info (user:pass@) are not fetched", url=url)
        try:
            host = target.raw_host.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidTarget("the host is not ASCII after IDNA encoding", url=url) from None
        if not host:
            raise InvalidTarget("the URL has no host", url=url)
        port = target.port or _DEFAULT_PORTS[target.scheme]
        if self.policy.ports is not None and port not in self.policy.ports:
            raise InvalidTarget(f"port {port} is not allowed", url=url)
        try:
            literal = parse_ip_host(host)
        except BadIPSpelling as exc:
            raise InvalidTarget(str(exc), url=url) from None
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            addresses = self._resolve(host, port, deadline, url)
        for address in addresses:
            allowed, kind = is_allowed(address, self.policy.allow, self.policy.allowed_networks)
            if not allowed:
                via = "" if literal is not None else f" ({host} resolves to it)"
                raise ForbiddenAddress(
                    f"{address} is a {kind} address{via}; it is not fetched", url=url, kind=kind
                )
        return target, [str(a) for a in addresses]

    def _resolve(self, host: str, port: int, deadline: _Deadline, url: str) -> list[IPAddress]:
        left = deadline.left()
        if left <= 0:
            raise FetchTimeout("the fetch's time limit is spent", url=url)
        future = _RESOLVER_POOL.submit(self.resolver, host, port)
        try:
            names = future.result(timeout=left)
        except FutureTimeout:
            raise FetchTimeout(f"resolving {host} took too long", url=url) from None
        except (OSError, UnicodeError) as exc:
            raise ResolveError(f"{host} does not resolve: {exc}", url=url) from None
        addresses: list[IPAddress] = []
        for name in names:
            try:
                addresses.append(ipaddress.ip_address(name))
            except ValueError:
                raise ResolveError(f"{host} resolved to {name!r}, not an address") from None
        if not addresses:
            raise ResolveError(f"{host} has no addresses", url=url)
        return addresses

    # -- fetching -------------------------------------------------------------------------

    def fetch(self, url: str, *, accept: str = "*/*") -> FetchResult:
        """GET ``url`` within the policy's limits; raises :class:`FetchError`."""
        started = time.monotonic()
        deadline = _Deadline(self.policy.timeout_s)
        backend = _PinnedBackend(deadline)
        transport = _PinnedTransport(backend, self._ssl)
        headers = {
            "User-Agent": self.policy.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip, deflate",
        }
        redirects: list[str] = []
        current = url
        with httpx.Client(transport=transport, trust_env=False, headers=headers) as client:
            while True:
                target, addresses = self.vet(current, deadline)
                backend.pins[target.raw_host.decode("ascii")] = addresses
                try:
                    status, response_headers, body, location = self._one(
                        client, target, deadline, current
                    )
                except httpcore.TimeoutException as exc:
                    raise FetchTimeout(f"timed out: {exc}", url=current) from None
                except (httpcore.ConnectError, OSError) as exc:
                    raise ConnectFailed(f"cannot connect: {exc}", url=current) from None
                except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
                    raise FetchError(f"connection failed: {exc}", url=current) from None
                if location is None:
                    return FetchResult(
                        url,
                        current,
                        status,
                        response_headers,
                        body,
                        backend.connected or addresses[0],
                        tuple(redirects),
                        time.monotonic() - started,
                    )
                if len(redirects) >= self.policy.max_redirects:
                    raise TooManyRedirects(
                        f"more than {self.policy.max_redirects} redirects", url=current
                    )
                redirects.append(location)
                current = location

    def _one(
        self, client: httpx.Client, target: httpx.URL, deadline: _Deadline, url: str
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes, str | None]:
        """One request: (status, headers, body, next URL or ``None``)."""
        left = deadline.left()
        if left <= 0:
            raise FetchTimeout("the fetch's time limit is spent", url=url)
        request = client.build_request("GET", target, timeout=httpx.Timeout(left))
        response = client.send(request, stream=True, follow_redirects=False)
        try:
            headers = tuple(
                (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw
            )
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                try:
                    following = str(target.join(location))
                except (httpx.InvalidURL, ValueError) as exc:
                    raise InvalidTarget(f"bad redirect Location: {exc}", url=url) from None
                return response.status_code, headers, b"", following
            body = self._read(response, url)
            return response.status_code, headers, body, None
        finally:
            response.close()

    def _read(self, response: httpx.Response, url: str) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length")
        encoding = response.headers.get("content-encoding", "")
        if declared is not None and declared.isdigit() and not encoding and int(declared) > limit:
            raise ResponseTooLarge(
                f"the body is {declared} bytes; at most {limit} are fetched", url=url
            )
        inflater = _Inflater(encoding, limit)
        parts: list[bytes] = []
        for chunk in response.iter_raw():
            parts.append(inflater.feed(chunk))
        return b"".join(parts)
