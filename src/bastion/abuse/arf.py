"""Machine-readable abuse mail in: ARF (RFC 5965) and X-ARF, parsed with the stdlib.

* **ARF**: ``multipart/report; report-type=feedback-report`` whose
  ``message/feedback-report`` part has ``Feedback-Type`` (``abuse``, ``fraud``, ``virus``,
  ``other``...), ``Version: 1`` and the URLs in ``Reported-URI`` fields (RFC 5965, 3.2).
* **X-ARF**: a message with ``X-XARF: PLAIN`` whose report part is flat YAML (v0.2:
  ``Category``, ``Report-Type``, ``Source-Type: uri``, ``Source``) or JSON (``Category``/
  ``ReportClass``, ``Type``/``ReportType``, ``Source``/``Url``).

The sender (``From``) is the reporter; they did not consent to share their contact. A
report's id derives from the ``Message-ID`` (else the bytes), so a message read twice is
one report. Errors name what is wrong with the message (:class:`ArfError`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

import orjson

from bastion.abuse.errors import AbuseError
from bastion.abuse.reports import MAX_URLS, Report, Reporter, ReportType
from bastion.abuse.urls import canonicalize_url

MAX_MESSAGE_BYTES = 10 << 20
#: ARF Feedback-Type (RFC 5965 and its registry) -> report type.
FEEDBACK_TYPES = {
    "abuse": ReportType.SPAM,
    "fraud": ReportType.PHISHING,
    "virus": ReportType.MALWARE,
    "other": ReportType.OTHER,
}
#: X-ARF categories and report types -> report type (the most specific wins).
XARF_TYPES = {
    "phishing": ReportType.PHISHING,
    "phishing-site": ReportType.PHISHING,
    "fraud": ReportType.PHISHING,
    "malware": ReportType.MALWARE,
    "malware-site": ReportType.MALWARE,
    "spam": ReportType.SPAM,
    "copyright": ReportType.OTHER,
    "abuse": ReportType.OTHER,
    "harassment": ReportType.HARASSMENT,
}


class ArfError(AbuseError):
    """A message that is not a usable ARF or X-ARF report (the message says why)."""


@dataclass(frozen=True)
class MailReport:
    """What a machine-readable abuse message reports."""

    format: str
    type: ReportType
    urls: list[str]
    reporter: Reporter
    description: str
    key: str
    arrival: datetime | None

    def to_report(self, received_at: datetime) -> Report:
        """The report (its id derives from the message, so reading it twice is one)."""
        return Report(
            id="m" + self.key[:31],
            type=self.type,
            urls=self.urls,
            description=self.description,
            reporter=self.reporter,
            source=f"mail:{self.format}",
            received_at=received_at,
        )


def parse_abuse_mail(raw: bytes) -> MailReport:
    """Read an ARF or X-ARF message; raises :class:`ArfError` naming the problem."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ArfError(f"the message is larger than {MAX_MESSAGE_BYTES >> 20} MiB")
    if not raw.strip():
        raise ArfError("the message is empty")
    msg = message_from_bytes(raw, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise ArfError("not an email message (no headers)")
    ctype = msg.get_content_type()
    if ctype == "multipart/report" and msg.get_param("report-type") == "feedback-report":
        return _arf(msg, raw)
    if str(msg.get("X-XARF", "")).strip().upper() == "PLAIN":
        return _xarf(msg, raw)
    raise ArfError(
        f"neither ARF (multipart/report; report-type=feedback-report) nor X-ARF "
        f"(X-XARF: PLAIN): the message is {ctype}"
    )


def _reporter(msg: Message) -> Reporter:
    name, address = parseaddr(str(msg.get("From", "")))
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    try:
        return Reporter(name=name[:200], email=address[:200], organization=domain[:200])
    except ValueError:
        return Reporter(name=name[:200])


def _key(msg: Message, raw: bytes) -> str:
    message_id = str(msg.get("Message-ID", "")).strip()
    basis = f"id:{message_id}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest()


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _canonical(urls: list[str], where: str) -> list[str]:
    out: list[str] = []
    for i, url in enumerate(urls):
        try:
            canonical = canonicalize_url(url.strip().strip("<>"))
        except AbuseError as exc:
            raise ArfError(f"{where} #{i + 1} ({url[:100]!r}): {exc}") from None
        if canonical not in out:
            out.append(canonical)
    if not out:
        raise ArfError(f"no URL in the report ({where})")
    if len(out) > MAX_URLS:
        raise ArfError(f"at most {MAX_URLS} URLs per report ({len(out)} given)")
    return out


def _human_text(msg: EmailMessage) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            try:
                text = part.get_content()
            except (LookupError, ValueError):
                continue
            return str(text).strip()[:10_000]
    return ""


def _arf(msg: EmailMessage, raw: bytes) -> MailReport:
    fields: Message | None = None
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                fields = payload[0]
            else:
                text = payload if isinstance(payload, str) else part.get_payload(decode=True)
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                fields = HeaderParser().parsestr(str(text or ""))
            break
    if fields is None:
        raise ArfError("ARF: the message/feedback-report part is missing (RFC 5965, 2)")
    feedback = str(fields.get("Feedback-Type", "")).strip().lower()
    if not feedback:
        raise ArfError("ARF: the feedback report has no Feedback-Type field (RFC 5965, 3.1)")
    version = str(fields.get("Version", "")).strip()
    if version and version != "1":
        raise ArfError(f"ARF: unsupported Version {version!r} (RFC 5965 defines 1)")
    kind = FEEDBACK_TYPES.get(feedback, ReportType.OTHER)
    uris = [str(v) for v in fields.get_all("Reported-URI", [])]
    urls = _canonical(uris, "Reported-URI")
    text = _human_text(msg)
    description = f"ARF feedback report ({feedback})" + (f": {text}" if text else "")
    return MailReport("arf", kind, urls, _reporter(msg), description[:10_000], _key(msg, raw),
                      _date(fields.get("Arrival-Date")))  # fmt: skip


def _xarf_fields(msg: EmailMessage) -> dict[str, str]:
    """The X-ARF report part: JSON, or flat YAML (``Key: value`` lines)."""
    parts = [p for p in msg.walk() if not p.is_multipart()]
    for part in parts[1:] or parts:
        try:
            body = part.get_content()
        except (LookupError, ValueError):
            continue
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                obj = orjson.loads(stripped)
            except orjson.JSONDecodeError as exc:
                raise ArfError(f"X-ARF: the JSON report part is not JSON: {exc}") from None
            if isinstance(obj, dict):
                inner = obj.get("Report")
                report: dict[str, Any] = inner if isinstance(inner, dict) else obj
                return {str(k).lower(): str(v) for k, v in report.items() if v is not None}
        found: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() and not key.startswith((" ", "-", "#")):
                found[key.strip().lower()] = value.strip().strip("'\"")
        if "category" in found or "report-type" in found or "source" in found:
            return found
    raise ArfError("X-ARF: no report part (YAML or JSON with Category and Source)")


def _xarf(msg: EmailMessage, raw: bytes) -> MailReport:
    fields = _xarf_fields(msg)
    names = [fields.get(k, "").strip().lower() for k in
             ("report-type", "reporttype", "type", "category", "reportclass")]  # fmt: skip
    kind = next((XARF_TYPES[n] for n in names if n in XARF_TYPES), None)
    if kind is None:
        shown = fields.get("category") or fields.get("reportclass") or "none"
        raise ArfError(f"X-ARF: category {shown!r} is not one this desk handles")
    source_type = fields.get("source-type", "uri").strip().lower()
    if source_type not in ("uri", "url"):
        raise ArfError(f"X-ARF: Source-Type {source_type!r} is not a URL (uri)")
    url = fields.get("source") or fields.get("url") or fields.get("sourceurl") or ""
    urls = _canonical([url] if url else [], "Source")
    text = _human_text(msg)
    description = f"X-ARF report ({', '.join(n for n in names if n)})" + (
        f": {text}" if text else ""
    )
    arrival = _date(fields.get("date"))
    return MailReport("xarf", kind, urls, _reporter(msg), description[:10_000],
                      _key(msg, raw), arrival)  # fmt: skip


# -- notices out: X-ARF ---------------------------------------------------------------------

#: Report types -> X-ARF v0.2 (Category, Report-Type).
XARF_OUT = {
    "phishing": ("fraud", "phishing-site"),
    "malware": ("malware", "malware-site"),
    "spam": ("abuse", "spam"),
    "csam": ("abuse", "illegal-content"),
    "violent_extremism": ("abuse", "illegal-content"),
    "harassment": ("abuse", "harassment"),
    "copyright": ("abuse", "copyright"),
    "trademark": ("abuse", "trademark"),
    "other": ("abuse", "other"),
}


def xarf_notice(case: dict[str, Any], *, sender: str, recipient: str | None) -> str:
    """One case as an X-ARF v0.2 message (``X-XARF: PLAIN``): a readable part and the
    machine-readable YAML report. Only the case: nothing of any reporter."""
    from email.message import EmailMessage as Mail
    from email.utils import format_datetime, make_msgid

    kind = str(case.get("type", "other"))
    category, report_type = XARF_OUT.get(kind, ("abuse", "other"))
    url = str(case.get("url", ""))
    opened = str(case.get("opened_at", ""))
    try:
        when = datetime.fromisoformat(opened)
    except ValueError:
        when = datetime.now(UTC)
    mail = Mail()
    mail["From"] = sender
    if recipient:
        mail["To"] = recipient
    mail["Subject"] = f"[{kind}] abuse report about {url}"[:300]
    mail["Date"] = format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    mail["Message-ID"] = make_msgid(domain="xarf.bastion.invalid")
    mail["X-XARF"] = "PLAIN"
    text = (
        f"We received {case.get('report_count', 1)} report(s) of {kind} about\n\n    {url}\n\n"
        f"which is hosted on your network (case {case.get('id')}, first reported {opened}).\n"
        "Please investigate and remove the content if it violates your policies.\n"
        "A machine-readable report (X-ARF) is attached.\n"
    )
    mail.set_content(text)
    report = "\n".join(
        f"{k}: {_yaml_scalar(v)}"
        for k, v in (
            ("Reported-From", sender),
            ("Category", category),
            ("Report-Type", report_type),
            ("Service", "http"),
            ("Version", "0.2"),
            ("User-Agent", "bastion abuse desk"),
            ("Date", format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))),
            ("Source-Type", "uri"),
            ("Source", url),
            ("Report-ID", f"case-{case.get('id')}"),
            ("Attachment", "none"),
        )
    )
    mail.add_attachment(
        "---\n" + report + "\n", subtype="plain", filename="report.txt", disposition="inline"
    )
    return mail.as_string()


def _yaml_scalar(value: object) -> str:
    """A YAML scalar on one line: quoted when it could be read as something else."""
    text = str(value).replace("\n", " ").replace("\r", " ")
    if not text or any(c in text for c in ":#'\"{}[],&*!|>%@`") or text != text.strip():
        return "'" + text.replace("'", "''") + "'"
    return text
