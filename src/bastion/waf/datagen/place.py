"""Embed a payload in a realistic HTTP request, encoded the way a real client would send it."""

# ruff: noqa: E501

from __future__ import annotations

import json
import random
import re
from urllib.parse import quote, quote_plus, unquote_plus, urlencode

from bastion.waf.datagen import benign as B
from bastion.waf.datagen import vocab as V
from bastion.waf.datagen.benign import graphql_with_arg, xml_document
from bastion.waf.datagen.sample import rand_alnum, rand_ip, rand_word, weighted
from bastion.waf.request import HttpRequest

#: Request parts :func:`place` can put a payload in.
PARTS: tuple[str, ...] = (
    "query",
    "path_segment",
    "form",
    "json",
    "multipart",
    "cookie",
    "user-agent",
    "referer",
    "x-forwarded-for",
    "custom_header",
    "raw_xml",
    "querykey",
)
_PART_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("query", 30.0), ("path_segment", 6.0), ("form", 16.0), ("json", 14.0), ("multipart", 5.0), ("cookie", 7.0),
    ("user-agent", 5.0), ("referer", 4.0), ("x-forwarded-for", 2.5), ("custom_header", 4.0), ("raw_xml", 3.0), ("querykey", 3.5),
)  # fmt: skip
_CUSTOM_HEADERS = (
    "X-Api-Version", "X-Custom-Header", "X-Forwarded-Host", "X-Original-URL", "X-Client-Id", "X-Requested-By", "X-Search-Query",
    "X-Debug", "True-Client-IP", "X-Wap-Profile", "Client-IP", "X-Host", "X-Auth-Token", "X-Rewrite-URL", "X-Originating-IP",
    "X-Remote-Addr", "X-Device-Id", "X-Correlation-ID", "X-Tenant", "Authorization", "Origin", "X-Session-Id", "X-Locale", "Forwarded",
)  # fmt: skip
_FORM_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
)
_JSON_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "application/json;charset=UTF-8",
)
_XML_TYPES = (
    "application/xml",
    "text/xml",
    "text/xml; charset=utf-8",
    "application/soap+xml; charset=utf-8",
)
_JSON_KEYS = (
    "name", "comment", "message", "query", "search", "title", "description", "email", "username", "value", "text", "note",
    "address", "filter", "id", "url", "redirect", "host", "file", "path", "cmd", "data", "input", "body", "content", "tag",
)  # fmt: skip
_WRAP_KEYS = (
    "user",
    "data",
    "params",
    "filter",
    "payload",
    "attributes",
    "query",
    "order",
    "customer",
    "settings",
    "meta",
    "form",
)
_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


# --- client-side encodings --------------------------------------------------------------------


def _pct(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def _minimal_query(value: str, *, key: bool = False) -> str:
    """Encode only what must be encoded in a query component (keeps ``'"<>()`` etc. raw)."""
    must = "%&#+ " + ("=" if key else "")
    return "".join(
        _pct(c) if c in must or ord(c) < 33 or ord(c) > 126 else c for c in value
    ).replace("%20", "+")


def _wire_query(value: str, *, key: bool = False) -> str:
    """A value already in wire form: escape only what would break the request line."""
    must = "&# " + ("=" if key else "")
    return "".join(_pct(c) if c in must or ord(c) < 33 or ord(c) > 126 else c for c in value)


def _encode_query(value: str, rng: random.Random, *, key: bool = False) -> str:
    style = weighted(rng, (("plus", 5.0), ("pct", 2.0), ("minimal", 3.0)))
    if style == "plus":
        return quote_plus(
            value, safe=rng.choice(["", "", "/", "()*'!"] if key else ["", "", "/", "()*'!", ":/,"])
        )
    if style == "pct":
        return quote(value, safe="" if key else rng.choice(["", "/", "()*'!~"]))
    return _minimal_query(value, key=key)


def _encode_segment(value: str, rng: random.Random) -> str:
    if rng.random() < 0.6:
        return quote(value, safe="")
    return quote(value, safe="!$&'()*+,;=:@")  # keep RFC 3986 sub-delims, as many clients do


def _wire_segment(value: str) -> str:
    return "".join(_pct(c) if c in "?#" or ord(c) < 33 or ord(c) > 126 else c for c in value)


def _encode_cookie(value: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return quote(value, safe="!~*'()")  # like JavaScript encodeURIComponent
    if r < 0.75:
        return quote(value, safe="")
    return "".join(_pct(c) if c in ';,"\\% ' or ord(c) < 33 or ord(c) > 126 else c for c in value)


def _wire_cookie(value: str) -> str:
    return "".join(_pct(c) if c in "; " or ord(c) < 32 or ord(c) > 126 else c for c in value)


def header_safe(value: str) -> str:
    """A header value that cannot split the request: CR, LF and other controls percent-encoded."""
    return _CTRL.sub(lambda m: _pct(m.group(0)), value)


# --- request scaffolding ----------------------------------------------------------------------


def _host(rng: random.Random) -> str:
    return rng.choice(["www.", "", "shop.", "api.", "app.", "m.", "portal."]) + rng.choice(
        [
            "example.com",
            "example.org",
            "shop.example.net",
            "acme-corp.com",
            "my-store.io",
            "contoso.com",
            "testsite.dev",
            "news.example.co.uk",
        ]
    )


def _base_path(rng: random.Random) -> str:
    path = B.url_path(rng)
    return path.split("?", 1)[0].split("#", 1)[0] or "/"


def _unique_name(rng: random.Random, taken: set[str]) -> str:
    for _ in range(20):
        name = rng.choice(B.PARAM_NAMES)
        if name not in taken:
            return name
    return f"{rng.choice(B.PARAM_NAMES)}_{rng.randint(2, 999)}"


def _headers(
    rng: random.Random, host: str, *, cookies: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    headers = B.header_pairs(rng, host)
    if cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
    return headers


def _with_body(
    headers: list[tuple[str, str]], content_type: str, body: bytes
) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
    out += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    return out


def _multipart(fields: list[tuple[str, str]], rng: random.Random) -> tuple[str, bytes]:
    boundary = rng.choice(
        [
            "----WebKitFormBoundary",
            "---------------------------",
            "----geckoformboundary",
            "boundary-",
        ]
    ) + rand_alnum(rng, 16)
    parts: list[str] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    if rng.random() < 0.3:
        fname = f"{rand_word(rng)}.{rng.choice(['txt', 'csv'])}"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="{fname}"\r\nContent-Type: text/plain\r\n\r\n{B.sentence(rng)}\r\n'
        )
    body = "".join(parts) + f"--{boundary}--\r\n"
    return f"multipart/form-data; boundary={boundary}", body.encode("utf-8", "surrogatepass")


def _json_doc(rng: random.Random, payload: str) -> tuple[object, str]:
    """A realistic JSON document holding ``payload`` at one string leaf, and that leaf's path."""
    key = rng.choice(_JSON_KEYS)
    leaf_style = rng.random()
    siblings = {
        k: B.benign_scalar(rng, k) for k in rng.sample(_JSON_KEYS, rng.randint(0, 3)) if k != key
    }
    path = "$"
    node: object
    if leaf_style < 0.15:
        items: list[object] = [B.benign_scalar(rng) for _ in range(rng.randint(0, 2))]
        idx = len(items)
        items.append(payload)
        items += [rand_word(rng) for _ in range(rng.randint(0, 1))]
        node = {**siblings, key: items}
        path = f"$.{key}[{idx}]"
    else:
        node = {**siblings, key: payload}
        path = f"$.{key}"
    depth = weighted(rng, ((0, 4.0), (1, 3.0), (2, 1.0)))
    for _ in range(depth):
        wrap = rng.choice(_WRAP_KEYS)
        if rng.random() < 0.2:
            node = {wrap: [node]}
            path = f"$.{wrap}[0]" + path[1:]
        else:
            extra = {
                k: B.benign_scalar(rng, k)
                for k in rng.sample(_JSON_KEYS, rng.randint(0, 2))
                if k != wrap
            }
            node = {wrap: node, **extra} if rng.random() < 0.5 else {**extra, wrap: node}
            path = f"$.{wrap}" + path[1:]
    return node, path


# --- placement --------------------------------------------------------------------------------


def place(
    payload: str, rng: random.Random, part: str | None = None, *, encode_for_part: bool = True
) -> tuple[HttpRequest, str]:
    """Put ``payload`` into a realistic request; return it and the payload's input location.

    Locations follow :mod:`bastion.waf.inputs`: ``query:<name>``, ``querykey:<name>``, ``path``,
    ``body:form:<name>``, ``body:json:$.a.b[0]``, ``body:multipart:<name>``, ``cookie:<name>``,
    ``header:<lowercase-name>`` and ``body:raw``. With ``encode_for_part`` the payload is
    percent-encoded as a client would (one decode by the parser yields it back); without it the
    payload is taken to be in wire form already (only request-breaking characters are escaped).
    Headers carry the payload raw, except CR/LF and other controls, which are percent-encoded.
    """
    part = part or weighted(rng, _PART_WEIGHTS)
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; use one of {PARTS}")
    host = _host(rng)
    path = _base_path(rng)
    params = B.query_params(rng, weighted(rng, ((0, 3.0), (1, 3.0), (2, 2.0), (3, 1.5), (5, 0.5))))
    taken = {k for k, _ in params}
    cookies = B.cookie_pairs(rng) if rng.random() < 0.55 else []
    method = "GET"
    body = b""
    ctype = ""
    location = ""

    def query_string(extra: str | None = None, at: int | None = None) -> str:
        pieces = [urlencode([kv]) for kv in params]
        if extra is not None:
            pieces.insert(rng.randint(0, len(pieces)) if at is None else at, extra)
        return "&".join(pieces)

    uri_query = query_string() if params else ""
    if part == "query":
        name = _unique_name(rng, taken)
        enc = _encode_query(payload, rng) if encode_for_part else _wire_query(payload)
        uri_query = query_string(f"{quote_plus(name)}={enc}")
        location = f"query:{name}"
    elif part == "querykey":
        enc = (
            _encode_query(payload, rng, key=True)
            if encode_for_part
            else _wire_query(payload, key=True)
        )
        value = rng.choice(["1", "", rand_word(rng), "true", str(rng.randint(1, 999))])
        uri_query = query_string(f"{enc}={quote_plus(value)}")
        location = f"querykey:{(payload if encode_for_part else unquote_plus(enc))[:128]}"
    elif part == "path_segment":
        seg = _encode_segment(payload, rng) if encode_for_part else _wire_segment(payload)
        base = path.rstrip("/")
        style = rng.random()
        if style < 0.5:
            path = f"{base}/{seg}"
        elif style < 0.8:
            path = f"{base}/{seg}/{rng.choice(['details', 'edit', 'view', 'comments', 'download', 'info'])}"
        else:
            path = (
                f"/{rng.choice(['p', 'item', 'user', 'search', 'files', 'tag', 'category'])}/{seg}"
            )
        location = "path"
    elif part in ("form", "json", "multipart", "raw_xml"):
        method = weighted(rng, (("POST", 8.0), ("PUT", 1.5), ("PATCH", 1.0)))
        if part == "form":
            fields = B.form_fields(rng)
            names = {k for k, _ in fields}
            name = _unique_name(rng, names)
            pieces = [urlencode([kv]) for kv in fields]
            enc = _encode_query(payload, rng) if encode_for_part else _wire_query(payload)
            pieces.insert(rng.randint(0, len(pieces)), f"{quote_plus(name)}={enc}")
            body = "&".join(pieces).encode()
            ctype = rng.choice(_FORM_TYPES)
            location = f"body:form:{name}"
        elif part == "json":
            if rng.random() < 0.08:  # GraphQL: the payload inside a string argument of the query
                doc: object = {"query": graphql_with_arg(rng, payload), "variables": {}}
                location = "$.query"
            else:
                doc, location = _json_doc(rng, payload)
            body = json.dumps(
                doc,
                ensure_ascii=rng.random() < 0.4,
                separators=rng.choice([(",", ":"), (", ", ": ")]),
            ).encode("utf-8", "surrogatepass")
            ctype = rng.choice(_JSON_TYPES)
            location = f"body:json:{location}"
        elif part == "multipart":
            fields = [(k, v) for k, v in B.form_fields(rng) if '"' not in k]
            name = _unique_name(rng, {k for k, _ in fields} | {"attachment"})
            fields.insert(rng.randint(0, len(fields)), (name, payload))
            ctype, body = _multipart(fields, rng)
            location = f"body:multipart:{name}"
        else:
            body = xml_document(rng, payload).encode("utf-8", "surrogatepass")
            ctype = rng.choice(_XML_TYPES)
            location = "body:raw"
    elif part == "cookie":
        names = {k for k, _ in cookies}
        name = rng.choice(
            [
                "session",
                "lang",
                "theme",
                "user",
                "prefs",
                "tracking",
                "ref",
                "cart",
                "uid",
                "last_search",
                "redirect",
                "token",
                "sid",
                "q",
            ]
        )
        if name in names:
            name = f"{name}_{rng.randint(1, 99)}"
        enc = _encode_cookie(payload, rng) if encode_for_part else _wire_cookie(payload)
        cookies.insert(rng.randint(0, len(cookies)), (name, enc))
        location = f"cookie:{name}"
    uri = path + (f"?{uri_query}" if uri_query else "")
    headers = _headers(rng, host, cookies=cookies)
    if part in ("user-agent", "referer", "x-forwarded-for", "custom_header"):
        value = header_safe(payload)
        if part == "user-agent":
            name = "User-Agent"
            if rng.random() < 0.3:
                value = f"{B.user_agent(rng)} {value}"
        elif part == "referer":
            name = "Referer"
            if rng.random() < 0.5:
                value = f"https://{rng.choice(V.DOMAINS)}{_base_path(rng)}?{rng.choice(B.PARAM_NAMES)}={value}"
        elif part == "x-forwarded-for":
            name = "X-Forwarded-For"
            if rng.random() < 0.4:
                value = f"{rand_ip(rng, private=False)}, {value}"
        else:
            name = rng.choice(_CUSTOM_HEADERS)
        headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
        headers.insert(rng.randint(1, len(headers)), (name, value))
        location = f"header:{name.lower()}"
    if body:
        headers = _with_body(headers, ctype, body)
    return HttpRequest(method=method, uri=uri, headers=tuple(headers), body=body), location


def benign_request(rng: random.Random) -> HttpRequest:
    """A realistic full clean request: browser or API-client headers, cookies, maybe a body."""
    host = _host(rng)
    method = weighted(
        rng,
        (
            ("GET", 7.0),
            ("POST", 2.0),
            ("PUT", 0.4),
            ("PATCH", 0.3),
            ("DELETE", 0.2),
            ("HEAD", 0.1),
            ("OPTIONS", 0.1),
        ),
    )
    path = _base_path(rng)
    n_params = weighted(rng, ((0, 4.0), (1, 3.0), (2, 2.0), (3, 1.5), (4, 0.8), (7, 0.3)))
    params = B.query_params(rng, n_params)
    uri = path + ("?" + urlencode(params) if params else "")
    cookies = B.cookie_pairs(rng) if rng.random() < 0.6 else []
    headers = _headers(rng, host, cookies=cookies)
    body = b""
    if method in ("POST", "PUT", "PATCH"):
        kind = weighted(
            rng, (("form", 4.0), ("json", 4.0), ("multipart", 1.0), ("xml", 0.5), ("none", 0.5))
        )
        if kind == "form":
            body = urlencode(B.form_fields(rng)).encode()
            headers = _with_body(headers, rng.choice(_FORM_TYPES), body)
        elif kind == "json":
            body = B.json_body(rng).encode("utf-8")
            headers = _with_body(headers, rng.choice(_JSON_TYPES), body)
        elif kind == "multipart":
            ctype, body = _multipart(B.form_fields(rng), rng)
            headers = _with_body(headers, ctype, body)
        elif kind == "xml":
            body = B.xml_body(rng).encode("utf-8")
            headers = _with_body(headers, rng.choice(_XML_TYPES), body)
    return HttpRequest(method=method, uri=uri, headers=tuple(headers), body=body)


def place_clean(value: str, rng: random.Random) -> tuple[HttpRequest, str]:
    """Put a clean free-text value where such text naturally goes (form, JSON, query, multipart)."""
    part = weighted(
        rng, (("form", 4.0), ("json", 4.0), ("query", 2.0), ("multipart", 1.0), ("raw_xml", 0.3))
    )
    return place(value, rng, part)
