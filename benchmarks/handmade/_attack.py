"""Placement and transport encoding of hand-written attack payloads, with round-trip checks.

A payload is the decoded string the application ends up handling. It is placed in
one request part (query, path, form, JSON, multipart, cookie, User-Agent, Referer,
X-Forwarded-For or a custom header) and transport-encoded the way a client would
send it (raw/minimal, URL, double URL, %u, HTML entities, JSON \\u escapes, base64).
Every row carries ``meta`` with placement, encoding, target and the payload, and
:func:`recover` decodes the request back to the payload to prove it is intact.
"""

from __future__ import annotations

import base64
import html
import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

from _common import (
    BROWSERS,
    UA,
    Gen,
    b64,
    build_headers,
    dec_u,
    enc_double,
    enc_full,
    enc_html,
    enc_json_u,
    enc_minimal_path,
    enc_minimal_query,
    enc_u,
    multipart_body,
    parse_multipart,
    parse_params,
)

PLACEMENTS = ["query", "path", "form", "json", "multipart", "cookie", "ua", "referer", "xff", "header"]

ENCODINGS = {
    "query": ["none", "url", "double", "u"],
    "path": ["none", "url", "double", "u"],
    "form": ["none", "url", "double", "u", "html"],
    "json": ["none", "jsonu", "html", "b64"],
    "multipart": ["none", "html"],
    "cookie": ["none", "url", "double", "u", "b64"],
    "ua": ["none"],
    "referer": ["none", "url", "double"],
    "xff": ["none"],
    "header": ["none", "url"],
}

ATTACK_CLIENTS = [*BROWSERS, "curl", "curl", "python", "python", "go", "httpx", "postman", "okhttp", "wget", "java"]


def _header_safe(p: str) -> bool:
    return all(ch == "\t" or 0x20 <= ord(ch) <= 0x7E for ch in p)


def compatible(p: str, place: str, enc: str, charset: str) -> bool:
    if charset != "utf-8" and (place not in ("query", "path", "form", "cookie", "referer") or enc not in ("none", "url", "double")):
        return False
    if place in ("ua", "xff") or (place == "header" and enc == "none"):
        return _header_safe(p)
    if place == "cookie" and enc == "none":
        return _header_safe(p) and ";" not in p and "\t" not in p
    if place in ("json", "multipart", "form") and enc == "html":
        return True
    return True


class AttackSet:
    def __init__(self, seed: int, label: str, contexts: dict[str, list[tuple[Any, ...]]], kind_of: Callable[[str], str]) -> None:
        self.g = Gen(seed)
        self.label = label
        self.ctx = contexts
        self.kind_of = kind_of
        self.rows: list[dict[str, Any]] = []
        self.place_count: Counter[str] = Counter()
        self.enc_count: Counter[str] = Counter()
        self._cycle: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        #: optional hook (payload, placement, context) -> payload, e.g. to put a
        #: plausible value in front of a bare "; id"
        self.prefixer: Callable[[str, str, tuple[Any, ...]], str] | None = None

    # -- pick a context of the right kind, cycling so the same endpoint rarely repeats --
    def _context(self, place: str, kind: str) -> tuple[Any, ...]:
        key = (place, kind)
        if not self._cycle.get(key):
            opts = [c for c in self.ctx[place] if kind == "any" or kind in c[-1] or "*" in c[-1]]
            if not opts:
                opts = list(self.ctx[place])
            self.g.r.shuffle(opts)
            self._cycle[key] = opts
        return self._cycle[key].pop()

    def add(self, payload: str, place: str, enc: str, *, charset: str = "utf-8", prefix: str | None = None) -> None:
        assert enc in ENCODINGS[place], (place, enc)
        g = self.g
        kind = self.kind_of(payload)
        ctx = self._context(place, kind)
        if self.prefixer is not None:
            payload = self.prefixer(payload, place, ctx)
        assert compatible(payload, place, enc, charset), (payload, place, enc)
        prof = g.pick(ATTACK_CLIENTS)
        is_browser = prof in BROWSERS
        host = ctx[0]
        method = "GET"
        uri = "/"
        body: str | None = None
        ctype: str | None = None
        extra: list[tuple[str, str]] = []
        cookies = g.jar(g.pick(["php", "django", "java", "aspnet", "laravel", "ga", "rails", "wp"])) if (is_browser or g.chance(0.3)) else []
        ua_override = None
        ref = None
        target: Any = None

        def qenc(v: str) -> str:
            if enc == "none":
                return enc_minimal_query(v, charset, space=g.pick(["+", "%20"]))
            if enc == "url":
                return enc_full(v, charset)
            if enc == "double":
                return enc_double(v, charset)
            if enc == "u":
                return enc_u(v)
            if enc == "html":
                return enc_full(enc_html(v, g))
            raise ValueError(enc)

        def others(spec: str) -> list[str]:
            return [enc_full(k).replace("%5B", "[").replace("%5D", "]") + ("" if v is None else "=" + enc_full(v)) for k, v in parse_params(spec)]

        if place == "query":
            _, path, param, other, _k = ctx
            parts = others(other)
            parts.insert(g.r.randint(0, len(parts)), f"{param}={qenc(payload)}")
            uri = path + "?" + "&".join(parts)
            target = param
        elif place == "path":
            _, tmpl, _k = ctx
            seg = {"none": enc_minimal_path, "url": enc_full, "double": enc_double}.get(enc)
            s = seg(payload, charset) if seg else enc_u(payload)
            uri = tmpl.replace("{}", s)
            target = tmpl
        elif place == "form":
            _, path, field, other, _k = ctx
            parts = others(other)
            parts.insert(g.r.randint(0, len(parts)), f"{enc_full(field).replace('%5B', '[').replace('%5D', ']')}={qenc(payload)}")
            body = "&".join(parts)
            method, uri, ctype = "POST", path, "application/x-www-form-urlencoded"
            target = field
        elif place == "json":
            _, path, tmpl, _k = ctx
            if enc == "none":
                val = json.dumps(payload, ensure_ascii=False)
            elif enc == "jsonu":
                val = enc_json_u(payload)
            elif enc == "html":
                val = json.dumps(enc_html(payload, g), ensure_ascii=False)
            else:
                val = json.dumps(b64(payload))
            text = json.dumps(tmpl, ensure_ascii=False, separators=(",", ":") if g.chance(0.6) else None)
            assert text.count('"@@"') == 1, tmpl
            body = text.replace('"@@"', val)
            method, uri, ctype = ctx[3] if len(ctx) > 4 else "POST", path, g.pick(["application/json", "application/json;charset=UTF-8"])
            target = "@@"
        elif place == "multipart":
            _, path, field, other, _k = ctx
            val = payload if enc == "none" else enc_html(payload, g)
            fields = [(n, v, fn, ct) for n, v, fn, ct in other]
            fields.insert(g.r.randint(0, len(fields)), (field, val, None, None))
            body, ctype = multipart_body(g, fields)
            method, uri = "POST", path
            target = field
        elif place == "cookie":
            _, path, name, _k = ctx
            if enc == "b64":
                v = b64(payload)
            elif enc == "none":
                v = payload
            else:
                v = qenc(payload) if enc != "none" else payload
            cookies = list(cookies)
            cookies.insert(g.r.randint(0, len(cookies)), (name, v))
            uri = path
            target = name
        elif place in ("ua", "xff", "header", "referer"):
            _, path, hname, pre, _k = ctx
            uri = path
            pre = prefix if prefix is not None else pre
            if place == "xff" and payload[:1].isalnum():
                pre = ""
            if place == "ua":
                ua_override = pre + payload
                target = "User-Agent"
            elif place == "xff":
                extra.append(("X-Forwarded-For", pre + payload))
                target = "X-Forwarded-For"
            elif place == "header":
                extra.append((hname, pre + (payload if enc == "none" else enc_full(payload))))
                target = hname
            else:
                ref = pre + qenc(payload)
                target = "Referer"
        else:
            raise ValueError(place)

        if place == "cookie" and not cookies:
            raise AssertionError
        kind_h = "xhr" if ctype == "application/json" or (ctype or "").startswith("application/json") else ("form" if body is not None else "nav")
        headers = build_headers(g, host, prof=prof, kind=kind_h, ref=ref, cookies=cookies, ctype=ctype, extra=extra, ua_override=ua_override)
        if body is not None:
            headers.insert(1, ["Content-Length", str(len(body.encode("utf-8")))])
        row: dict[str, Any] = {"method": method, "uri": uri, "headers": headers}
        if body is not None:
            row["body"] = body
        row["label"] = self.label
        row["meta"] = {"placement": place, "encoding": enc, "target": target, "payload": payload}
        if charset != "utf-8":
            row["meta"]["charset"] = charset
        assert recover(row) is not None and payload in recover(row), (payload, row)
        self.rows.append(row)
        self.place_count[place] += 1
        self.enc_count[enc] += 1


# --------------------------------------------------------------------------------------
# Round trip: what a server would hand the application
# --------------------------------------------------------------------------------------


def _undo(v: str, enc: str, charset: str, plus: bool = True) -> str:
    if enc == "none" or enc == "url":
        return unquote_plus(v, encoding=charset) if plus else unquote(v, encoding=charset)
    if enc == "double":
        return unquote(unquote(v), encoding=charset) if not plus else unquote_plus(unquote_plus(v), encoding=charset)
    if enc == "u":
        return dec_u(v)
    if enc == "html":
        return html.unescape(unquote_plus(v))
    if enc == "b64":
        return base64.b64decode(v).decode(charset)
    raise ValueError(enc)


def _find_json(obj: Any) -> list[str]:
    out = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += _find_json(v)
    elif isinstance(obj, list):
        for v in obj:
            out += _find_json(v)
    elif isinstance(obj, str):
        out.append(obj)
    return out


def recover(row: dict[str, Any]) -> str | None:
    m = row["meta"]
    place, enc, target = m["placement"], m["encoding"], m["target"]
    cs = m.get("charset", "utf-8")
    hdr = {k.lower(): v for k, v in row["headers"]}
    if place == "query":
        for part in row["uri"].split("?", 1)[1].split("&"):
            k, _, v = part.partition("=")
            if unquote(k) == target:
                return _undo(v, enc, cs)
    elif place == "path":
        path = row["uri"].split("?", 1)[0]
        pre, _, post = target.partition("{}")
        seg = path[len(pre): len(path) - len(post) if post else None]
        return _undo(seg, enc, cs, plus=False)
    elif place == "form":
        for part in row["body"].split("&"):
            k, _, v = part.partition("=")
            if unquote(k) == target:
                return _undo(v, enc, cs)
    elif place == "json":
        strings = _find_json(json.loads(row["body"]))
        cand = [s for s in strings if m["payload"] in (html.unescape(s) if enc == "html" else s)] or strings
        if enc == "b64":
            for s in strings:
                try:
                    d = base64.b64decode(s, validate=True).decode()
                except Exception:
                    continue
                if d == m["payload"]:
                    return d
            return None
        s = cand[0]
        return html.unescape(s) if enc == "html" else s
    elif place == "multipart":
        fields = parse_multipart(row["body"], hdr["content-type"])
        v = fields[target]
        return html.unescape(v) if enc == "html" else v
    elif place == "cookie":
        for part in hdr["cookie"].split("; "):
            k, _, v = part.partition("=")
            if k == target:
                return v if enc == "none" else _undo(v, enc, cs, plus=False)
    elif place in ("ua", "xff"):
        return hdr[target.lower()]
    elif place == "header":
        v = hdr[target.lower()]
        return v if enc == "none" else unquote(v)
    elif place == "referer":
        ref = hdr["referer"]
        q = ref.split("?", 1)[1]
        last = q.split("&")[-1]
        return _undo(last.partition("=")[2], enc, cs)
    return None


def schedule(
    g: Gen,
    payloads: list[str | tuple[str, dict[str, Any]]],
    targets: dict[str, int],
    enc_weights: dict[str, float],
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Assign each payload a placement and encoding: balanced, compatible, reproducible."""
    items = [(p, {}) if isinstance(p, str) else p for p in payloads]
    want = Counter(targets)
    enc_seen: Counter[str] = Counter()
    order = list(range(len(items)))
    g.r.shuffle(order)
    assigned: dict[int, tuple[str, str, str, dict[str, Any]]] = {}
    # explicit placements first
    for i in order:
        p, opt = items[i]
        if "place" in opt:
            place = opt["place"]
            enc = opt.get("enc") or _pick_enc(g, p, place, opt.get("charset", "utf-8"), enc_weights, enc_seen)
            assigned[i] = (p, place, enc, opt)
            want[place] -= 1
            enc_seen[enc] += 1
    for i in order:
        if i in assigned:
            continue
        p, opt = items[i]
        cs = opt.get("charset", "utf-8")
        ranked = sorted(PLACEMENTS, key=lambda pl: (-want[pl], g.r.random()))
        for place in ranked:
            encs = [e for e in ENCODINGS[place] if compatible(p, place, e, cs) and (opt.get("enc") in (None, e))]
            if encs:
                enc = _pick_enc(g, p, place, cs, enc_weights, enc_seen, encs, opt.get("enc"))
                assigned[i] = (p, place, enc, opt)
                want[place] -= 1
                enc_seen[enc] += 1
                break
        else:
            raise AssertionError(f"no placement for {p!r}")
    return [assigned[i] for i in range(len(items))]


def _pick_enc(g: Gen, p: str, place: str, cs: str, weights: dict[str, float], seen: Counter[str], encs: list[str] | None = None, forced: str | None = None) -> str:
    if forced:
        return forced
    encs = encs or [e for e in ENCODINGS[place] if compatible(p, place, e, cs)]
    total = sum(seen.values()) + 1
    # prefer the encoding furthest below its target share
    return max(encs, key=lambda e: (weights.get(e, 0.0) - seen[e] / total, g.r.random()))


__all__ = ["ENCODINGS", "PLACEMENTS", "UA", "AttackSet", "recover", "schedule"]
