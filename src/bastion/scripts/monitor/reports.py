"""CSP violation reports: parse both wire formats into one normalized record.

Browsers send two formats:

* ``application/csp-report`` (the ``report-uri`` directive): one object
  ``{"csp-report": {"document-uri": ..., "blocked-uri": ..., ...}}``;
* ``application/reports+json`` (the Reporting API, ``report-to``): a JSON array of
  reports, each ``{"type": "csp-violation", "url": ..., "body": {"documentURL": ...,
  "blockedURL": ..., ...}}``. Reports of other types (deprecation, intervention, ...) in
  the same array are skipped and counted, not refused.

``application/json`` is accepted too (older browsers sent the first format under it); the
shape then decides. Everything is bounded: the body's size (checked by the caller while
reading, and again here), the number of reports, each string's length and the types of
the fields. Unknown fields are ignored (browsers add new ones); a known field of the wrong
type is an error naming the field. Every problem raises :class:`ReportError` with the HTTP
status to answer (400, 413 or 415) and a short ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

ReportFormat = Literal["csp-report", "reports+json"]

MEDIA_CSP_REPORT = "application/csp-report"
MEDIA_REPORTS_JSON = "application/reports+json"
MEDIA_JSON = "application/json"
ACCEPTED_MEDIA_TYPES = (MEDIA_CSP_REPORT, MEDIA_REPORTS_JSON, MEDIA_JSON)


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """Bounds on one report request."""

    #: Largest body, in bytes (413 above it).
    max_body_bytes: int = 64 * 1024
    #: Most reports in one Reporting API array (413 above it).
    max_reports: int = 100
    #: Longest URL field (document, blocked, source file, referrer), in characters.
    max_url_chars: int = 4096
    #: Longest other string field (directives, policy, sample), in characters.
    max_text_chars: int = 8192


DEFAULT_LIMITS = ReportLimits()


class ReportError(ValueError):
    """A report request that cannot be accepted: HTTP ``status``, short ``code``, message."""

    def __init__(self, message: str, *, status: int = 400, code: str = "malformed") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class CspReport:
    """One CSP violation, whatever format it came in."""

    document_url: str
    #: A URL, or a keyword for what has none: ``inline``, ``eval``, ``data``, ``blob``...
    blocked_url: str
    #: The directive that was checked (``script-src-elem``, ``connect-src``...).
    effective_directive: str
    violated_directive: str
    format: ReportFormat
    source_file: str | None = None
    line_number: int | None = None
    column_number: int | None = None
    referrer: str | None = None
    original_policy: str | None = None
    disposition: str | None = None
    status_code: int | None = None
    sample: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedReports:
    """The violations of one request and how many other reports it carried."""

    reports: tuple[CspReport, ...]
    #: Reporting API entries of another type, skipped.
    skipped: int = 0


def media_type(content_type: str | None) -> str:
    """The bare, lower-cased media type of a ``Content-Type`` header (parameters dropped)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


# Field names: (our name, legacy csp-report key, Reporting API body key, kind).
_URL, _TEXT, _INT = "url", "text", "int"
_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("document_url", "document-uri", "documentURL", _URL),
    ("blocked_url", "blocked-uri", "blockedURL", _URL),
    ("effective_directive", "effective-directive", "effectiveDirective", _TEXT),
    ("violated_directive", "violated-directive", "violatedDirective", _TEXT),
    ("source_file", "source-file", "sourceFile", _URL),
    ("line_number", "line-number", "lineNumber", _INT),
    ("column_number", "column-number", "columnNumber", _INT),
    ("referrer", "referrer", "referrer", _URL),
    ("original_policy", "original-policy", "originalPolicy", _TEXT),
    ("disposition", "disposition", "disposition", _TEXT),
    ("status_code", "status-code", "statusCode", _INT),
    ("sample", "script-sample", "sample", _TEXT),
)
_MAX_INT = 2**31 - 1


def parse_reports(
    body: bytes, content_type: str | None, limits: ReportLimits = DEFAULT_LIMITS
) -> ParsedReports:
    """Parse a report request's body; raises :class:`ReportError`."""
    kind = media_type(content_type)
    if kind not in ACCEPTED_MEDIA_TYPES:
        raise ReportError(
            f"unsupported Content-Type {kind or '(none)'!r}: send "
            f"{MEDIA_CSP_REPORT} or {MEDIA_REPORTS_JSON}",
            status=415,
            code="unsupported_media_type",
        )
    if len(body) > limits.max_body_bytes:
        raise ReportError(
            f"the body has {len(body)} bytes; at most {limits.max_body_bytes} are accepted",
            status=413,
            code="too_large",
        )
    if not body.strip():
        raise ReportError("the body is empty", code="empty")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ReportError(f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if kind == MEDIA_CSP_REPORT or (kind == MEDIA_JSON and isinstance(data, dict)):
        return ParsedReports((_legacy(data, limits),))
    return _reporting_api(data, limits)


def _legacy(data: Any, limits: ReportLimits) -> CspReport:
    if not isinstance(data, dict):
        raise ReportError('an application/csp-report body must be an object {"csp-report": {...}}')
    inner = data.get("csp-report")
    if not isinstance(inner, dict):
        raise ReportError('"csp-report" is missing or not an object')
    return _record(inner, 1, "csp-report", limits, user_agent=None, where="csp-report")


def _reporting_api(data: Any, limits: ReportLimits) -> ParsedReports:
    if not isinstance(data, list):
        raise ReportError("an application/reports+json body must be a JSON array of reports")
    if len(data) > limits.max_reports:
        raise ReportError(
            f"{len(data)} reports in one request; at most {limits.max_reports} are accepted",
            status=413,
            code="too_many_reports",
        )
    reports: list[CspReport] = []
    skipped = 0
    for i, entry in enumerate(data):
        where = f"[{i}]"
        if not isinstance(entry, dict):
            raise ReportError(f"{where} must be an object with 'type' and 'body'")
        rtype = entry.get("type")
        if not isinstance(rtype, str):
            raise ReportError(f"{where}.type must be a string")
        if rtype != "csp-violation":
            skipped += 1
            continue
        body = entry.get("body")
        if not isinstance(body, dict):
            raise ReportError(f"{where}.body is missing or not an object")
        user_agent = _text(entry, "user_agent", f"{where}.user_agent", limits.max_text_chars)
        if "documentURL" not in body and isinstance(entry.get("url"), str):
            body = {**body, "documentURL": entry["url"]}
        reports.append(
            _record(body, 2, "reports+json", limits, user_agent=user_agent, where=f"{where}.body")
        )
    return ParsedReports(tuple(reports), skipped)


def _record(
    obj: Mapping[str, Any],
    key_index: int,
    fmt: ReportFormat,
    limits: ReportLimits,
    *,
    user_agent: str | None,
    where: str,
) -> CspReport:
    values: dict[str, Any] = {}
    for field in _FIELDS:
        key, kind = field[key_index], field[3]
        path = f"{where}.{key}"
        if kind == _INT:
            values[field[0]] = _int(obj, key, path)
        else:
            cap = limits.max_url_chars if kind == _URL else limits.max_text_chars
            values[field[0]] = _text(obj, key, path, cap)
    for required in ("document_url", "blocked_url"):
        if not values[required]:
            key = _FIELDS[0 if required == "document_url" else 1][key_index]
            raise ReportError(f"{where}.{key} is missing or empty")
    # Old browsers send only violated-directive ("script-src 'self'"); its name is the
    # effective directive.
    violated = values["violated_directive"] or ""
    effective = values["effective_directive"] or violated.split(" ", 1)[0]
    if not effective:
        raise ReportError(f"{where} names neither an effective nor a violated directive")
    values["effective_directive"] = effective.lower()
    values["violated_directive"] = violated
    return CspReport(format=fmt, user_agent=user_agent, **values)


def _text(obj: Mapping[str, Any], key: str, path: str, cap: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReportError(f"{path} must be a string, not {_type_name(value)}")
    if len(value) > cap:
        raise ReportError(
            f"{path} has {len(value)} characters; at most {cap} are accepted",
            status=413,
            code="field_too_long",
        )
    return value


def _int(obj: Mapping[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ReportError(f"{path} must be an integer, not {_type_name(value)}")
    if isinstance(value, str):  # some browsers send numbers as strings
        if not value.isascii() or not value.isdigit() or len(value) > 10:
            raise ReportError(f"{path} must be an integer, not {value[:20]!r}")
        value = int(value)
    if not 0 <= value <= _MAX_INT:
        raise ReportError(f"{path} is out of range: {value}")
    return value


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
    }.get(type(value), type(value).__name__)
