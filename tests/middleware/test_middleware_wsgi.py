"""BastionWSGIMiddleware in real WSGI applications: Flask (its test client) and Django
(``get_wsgi_application()`` driven by werkzeug's test client), plus the WSGI details
(request URI, headers, the replayed ``wsgi.input``)."""

from __future__ import annotations

import hashlib
import io
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import django
import flask
import pytest
from django.conf import settings
from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse, JsonResponse
from django.test.utils import override_settings
from django.urls import path as django_path
from werkzeug.test import Client, EnvironBuilder

from bastion.middleware import BastionWSGIMiddleware, Verdict, wsgi
from bastion.middleware.wsgi import ReplayInput
from bastion.rules import DEFAULT_RULE_SPECS, RuleSpec, compile_rules
from bastion.waf import Scorer, load_scorer

CAP = 1024
SQLI_QUERY = "/search?q=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--"
XSS_QUERY = "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"
XSS_FORM = b"comment=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"
SQLI_JSON = b"{\"id\": \"1' OR '1'='1' -- \"}"
CLEAN_JSON = b'{"name": "alice", "age": 30}'
BINARY = bytes(range(256)) * 3
LARGE = b"lorem ipsum dolor sit amet\n" * 200  # 5400 bytes, more than CAP
RULES = compile_rules(
    [
        RuleSpec("challenge-login", 'path == "/login"', "challenge"),
        RuleSpec("log-search", 'path startswith "/search"', "log"),
        *DEFAULT_RULE_SPECS,
    ]
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@dataclass
class Seen:
    view: str
    verdict: Verdict
    action_header: str | None
    body: bytes


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Harness:
    send: Callable[..., Reply]
    seen: list[Seen] = field(default_factory=list)


def _reply(r: Any) -> Reply:
    return Reply(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data())


# -- Flask ---------------------------------------------------------------------------------


def flask_harness(scorer: Scorer, **options: Any) -> Harness:
    seen: list[Seen] = []
    app = flask.Flask("bastion_test_flask")

    def record(view: str, body: bytes) -> None:
        env = flask.request.environ
        seen.append(
            Seen(view, env["bastion.decision"], flask.request.headers.get("X-Bastion-Action"), body)
        )

    @app.get("/search")
    def search() -> Any:
        record("search", b"")
        return {"q": flask.request.args.get("q", "")}

    @app.get("/login")
    def login() -> Any:
        record("login", b"")
        return "login"

    @app.post("/echo")
    def echo() -> Any:
        body = flask.request.get_data()
        record("echo", body)
        return hashlib.sha256(body).hexdigest()

    guarded = BastionWSGIMiddleware(app.wsgi_app, scorer=scorer, **options)
    app.wsgi_app = guarded  # type: ignore[method-assign]
    client = app.test_client()

    def send(method: str, url: str, **kwargs: Any) -> Reply:
        return _reply(client.open(url, method=method, **kwargs))

    return Harness(send, seen)


# -- Django --------------------------------------------------------------------------------

#: The views of the Django app record here (the URLconf is this module).
DJANGO_SEEN: list[Seen] = []


def _django_record(request: DjangoRequest, view: str, body: bytes) -> None:
    DJANGO_SEEN.append(
        Seen(view, request.META["bastion.decision"], request.headers.get("X-Bastion-Action"), body)
    )


def django_search(request: DjangoRequest) -> HttpResponse:
    _django_record(request, "search", b"")
    return JsonResponse({"q": request.GET.get("q", "")})


def django_echo(request: DjangoRequest) -> HttpResponse:
    body = request.body
    _django_record(request, "echo", body)
    return HttpResponse(hashlib.sha256(body).hexdigest(), content_type="text/plain")


urlpatterns = [
    django_path("search", django_search),
    django_path("login", django_search),
    django_path("echo", django_echo),
]


def django_harness(scorer: Scorer, **options: Any) -> Harness:
    from django.core.wsgi import get_wsgi_application

    DJANGO_SEEN.clear()
    app = BastionWSGIMiddleware(get_wsgi_application(), scorer=scorer, **options)
    client = Client(app)

    def send(method: str, url: str, **kwargs: Any) -> Reply:
        return _reply(client.open(url, method=method, **kwargs))

    return Harness(send, DJANGO_SEEN)


@pytest.fixture(scope="module")
def django_settings() -> Iterator[None]:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="bastion-tests-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
    with override_settings(
        ROOT_URLCONF=sys.modules[__name__], ALLOWED_HOSTS=["*"], APPEND_SLASH=False
    ):
        yield


HARNESSES = {"flask": flask_harness, "django": django_harness}


@pytest.fixture(params=sorted(HARNESSES))
def make(
    request: pytest.FixtureRequest, scorer: Scorer, django_settings: None
) -> Callable[..., Harness]:
    factory = HARNESSES[request.param]

    def build(**options: Any) -> Harness:
        options.setdefault("rules", RULES)
        options.setdefault("max_body_bytes", CAP)
        return factory(scorer, **options)

    return build


def assert_blocked(reply: Reply, harness: Harness) -> None:
    assert reply.status == 403
    assert reply.body == b"Request blocked.\n"
    assert reply.headers["x-bastion-action"] == "block"
    assert reply.headers["content-type"].startswith("text/plain")
    assert harness.seen == []


@pytest.mark.parametrize("url", [SQLI_QUERY, XSS_QUERY])
def test_attack_in_query_is_blocked_before_the_view(make: Callable[..., Harness], url: str) -> None:
    h = make()
    assert_blocked(h.send("GET", url), h)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(XSS_FORM, "application/x-www-form-urlencoded"), (SQLI_JSON, "application/json")],
)
def test_attack_in_body_is_blocked_before_the_view(
    make: Callable[..., Harness], body: bytes, content_type: str
) -> None:
    h = make()
    assert_blocked(h.send("POST", "/echo", data=body, content_type=content_type), h)


def test_block_status_is_configurable(make: Callable[..., Harness]) -> None:
    h = make(block_status=451)
    reply = h.send("GET", SQLI_QUERY)
    assert reply.status == 451 and reply.body == b"Request blocked.\n"


def test_clean_request_reaches_the_view_with_the_verdict(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/search?q=hello+world")
    assert reply.status == 200 and b"hello world" in reply.body
    assert "x-bastion-action" not in reply.headers and "x-bastion-score" not in reply.headers
    (seen,) = h.seen
    assert seen.verdict.decision.action == "allow"
    assert seen.verdict.decision.logged == ("log-search",)
    assert seen.verdict.result.score == 99 and not seen.verdict.body_truncated
    assert seen.action_header is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(CLEAN_JSON, "application/json"), (BINARY, "application/octet-stream"), (b"", "text/plain")],
)
def test_clean_body_reaches_the_view_byte_for_byte(
    make: Callable[..., Harness], body: bytes, content_type: str
) -> None:
    h = make()
    reply = h.send("POST", "/echo", data=body, content_type=content_type)
    assert reply.status == 200 and reply.body.decode() == hashlib.sha256(body).hexdigest()
    assert h.seen[0].body == body


def test_body_larger_than_the_cap_reaches_the_view_whole(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("POST", "/echo", data=LARGE, content_type="text/plain")
    assert reply.status == 200 and reply.body.decode() == hashlib.sha256(LARGE).hexdigest()
    (seen,) = h.seen
    assert seen.body == LARGE
    assert seen.verdict.body_truncated and seen.verdict.result.truncated


def test_challenge_marks_request_and_response(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/login")
    assert reply.status == 200 and reply.headers["x-bastion-action"] == "challenge"
    (seen,) = h.seen
    assert seen.action_header == "challenge"
    assert (seen.verdict.decision.action, seen.verdict.decision.rule_id) == (
        "challenge",
        "challenge-login",
    )


def test_client_cannot_forge_the_action_header(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/search?q=ok", headers={"X-Bastion-Action": "challenge"})
    assert reply.status == 200 and h.seen[0].action_header is None


def test_expose_scores_headers(make: Callable[..., Harness]) -> None:
    h = make(expose_scores=True)
    reply = h.send("GET", "/search?q=hello")
    assert [reply.headers[f"x-bastion-{k}"] for k in ("score", "sqli", "xss", "rce", "class")] == [
        "99",
        "99",
        "99",
        "99",
        "clean",
    ]
    blocked = h.send("GET", XSS_QUERY)
    assert blocked.status == 403 and int(blocked.headers["x-bastion-xss"]) < 20
    assert blocked.headers["x-bastion-class"] == "attack"


def test_blocks_are_logged_without_secrets(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    with caplog.at_level(logging.INFO, logger="bastion.waf"):
        h.send(
            "POST",
            "/echo",
            data=XSS_FORM,
            content_type="application/x-www-form-urlencoded",
            headers={"Cookie": "sid=cookie-secret-value", "Authorization": "Basic auth-secret"},
        )
    (record,) = [r for r in caplog.records if r.name == "bastion.waf"]
    assert record.levelno == logging.WARNING
    fields = record.bastion  # type: ignore[attr-defined]
    assert (fields["action"], fields["rule_id"], fields["path"]) == (
        "block",
        "block-attacks",
        "/echo",
    )
    everything = f"{record.getMessage()} {record.__dict__}"
    for secret in ("cookie-secret-value", "auth-secret", "script", "comment="):
        assert secret not in everything


# -- the WSGI details, with a bare WSGI application ------------------------------------------


def bare_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    bare_app.last = (environ, body)  # type: ignore[attr-defined]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def call(
    mw: BastionWSGIMiddleware, environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    got: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        got.extend([status, headers])

    body = b"".join(mw(environ, start_response))
    return got[0], got[1], body


def test_rules_see_decoded_path_canonical_host_and_method(scorer: Scorer) -> None:
    expression = 'path == "/a b/é" and host == "example.org" and method == "GET"'
    mw = BastionWSGIMiddleware(
        bare_app, scorer=scorer, rules=compile_rules([RuleSpec("p", expression, "challenge")])
    )
    headers = {"Host": "Example.org:8000"}
    env = EnvironBuilder(path="/a b/é", query_string="x=1", headers=headers).get_environ()
    status, response_headers, _ = call(mw, env)
    assert status == "200 OK" and ("X-Bastion-Action", "challenge") in response_headers
    assert bare_app.last[0]["bastion.decision"].decision.rule_id == "p"  # type: ignore[attr-defined]
    assert bare_app.last[0]["HTTP_X_BASTION_ACTION"] == "challenge"  # type: ignore[attr-defined]


def test_request_uri_prefers_the_servers_raw_uri() -> None:
    env = EnvironBuilder(path="/a b/é", query_string="x=1").get_environ()
    assert wsgi._request_uri(env) == "/a%20b/%C3%A9?x=1"  # RAW_URI is not raw: rebuilt
    env["REQUEST_URI"] = env["RAW_URI"] = "/raw%20path"
    assert wsgi._request_uri(env) == "/raw%20path?x=1"  # the query is added when missing
    env["RAW_URI"] = "/first?z=3"
    assert wsgi._request_uri(env) == "/first?z=3"


def test_headers_include_content_type_and_length() -> None:
    env = EnvironBuilder(
        method="POST", data=b"abc", content_type="text/plain", headers={"X-Custom": "1"}
    ).get_environ()
    assert {("x-custom", "1"), ("content-type", "text/plain"), ("content-length", "3")} <= set(
        wsgi._headers(env)
    )


def test_attack_in_raw_uri_is_blocked(scorer: Scorer) -> None:
    mw = BastionWSGIMiddleware(bare_app, scorer=scorer)
    env = EnvironBuilder(path="/search").get_environ()
    env["RAW_URI"] = SQLI_QUERY
    status, headers, body = call(mw, env)
    assert status == "403 Forbidden" and body == b"Request blocked.\n"
    assert ("X-Bastion-Action", "block") in headers
    # werkzeug's test environ has a RAW_URI without the query: the query is still scored.
    env = EnvironBuilder(path="/search", query_string=SQLI_QUERY.split("?", 1)[1]).get_environ()
    assert "?" not in env["RAW_URI"]
    assert call(mw, env)[0] == "403 Forbidden"


def test_body_without_content_length_is_read_only_when_terminated(scorer: Scorer) -> None:
    mw = BastionWSGIMiddleware(bare_app, scorer=scorer, max_body_bytes=8)
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read())
        seen.append(bytes([environ["bastion.decision"].body_truncated]))
        start_response("200 OK", [])
        return []

    mw.app = app
    env = EnvironBuilder(method="POST", input_stream=io.BytesIO(b"0123456789abc")).get_environ()
    env.pop("CONTENT_LENGTH", None)
    env["wsgi.input_terminated"] = True
    call(mw, env)
    assert seen == [b"0123456789abc", b"\x01"]
    env = EnvironBuilder(method="POST", input_stream=io.BytesIO(b"0123")).get_environ()
    env.pop("CONTENT_LENGTH", None)
    call(mw, env)  # not terminated, no length: the middleware reads nothing
    assert seen[2:] == [b"0123", b"\x00"]


class Trickle(io.RawIOBase):
    """A stream that returns at most 3 bytes per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(3, len(buffer), len(self.data))
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


@pytest.mark.parametrize("prefix_len", [0, 1, 5, 11, 26])
def test_replay_input_reads_like_the_original(prefix_len: int) -> None:
    data = b"line one\nline two\n\nlast line without newline"
    ops: list[Callable[[Any], Any]] = [
        lambda f: f.read(4),
        lambda f: f.readline(),
        lambda f: f.readline(3),
        lambda f: f.read(0),
        lambda f: f.readline(),
        lambda f: f.readlines(),
        lambda f: f.read(),
    ]
    for start in range(len(ops)):
        order = ops[start:] + ops[:start]
        ref = io.BytesIO(data)
        expected = [op(ref) for op in order]
        stream = io.BytesIO(data)
        replay = ReplayInput(stream.read(prefix_len), stream, len(data) - prefix_len)
        assert [op(replay) for op in order] == expected, (prefix_len, start)


def test_replay_input_never_reads_past_content_length() -> None:
    stream = io.BytesIO(b"abcdef" + b"NEXT REQUEST")
    replay = ReplayInput(stream.read(2), stream, 4)
    assert replay.read() == b"abcdef"
    assert replay.read(10) == b"" and replay.readline() == b""
    assert stream.read() == b"NEXT REQUEST"


def test_replay_input_fills_reads_across_the_prefix_boundary() -> None:
    """A read spanning prefix and stream returns all it asked for (Django reads once)."""
    stream = io.BufferedReader(Trickle(b"0123456789"), buffer_size=4)
    replay = ReplayInput(stream.read(4), stream, 6)
    assert replay.read(8) == b"01234567"
    buf = bytearray(5)
    assert replay.readinto(buf) == 2 and bytes(buf[:2]) == b"89"
    assert list(ReplayInput(b"a\nb", io.BytesIO(b"c\nd"))) == [b"a\n", b"bc\n", b"d"]
