"""What a report shows of its reporter, to whom.

Trust & safety staff see everything. A site owner or a hosting provider sees the reporter's
name, email and organization only when the reporter consented; otherwise those fields are
replaced by ``"[withheld]"``, and inside the free-text fields (description, the DMCA
notice, the trademark) the reporter's own name, organization and email, and any email
address or phone number, are masked too, since a reporter often signs a description.
The CSAM type never shows its reporter to anyone but staff.
"""

from __future__ import annotations

import re
from typing import Any

from bastion.abuse.reports import ReportType
from bastion.abuse.routing import Audience

WITHHELD = "[withheld]"
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']{1,64}@[^\s@<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/])\+?\d[\d ().-]{6,}\d(?![\w/])")


def may_see_reporter(audience: Audience, consent: bool, report_type: ReportType | str) -> bool:
    """Whether ``audience`` may see the contact details of a reporter."""
    if audience is Audience.STAFF:
        return True
    return consent and ReportType(report_type) is not ReportType.CSAM


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    return text if digits < 7 or _DATE.fullmatch(text) else WITHHELD


def scrub_contacts(text: str) -> str:
    """``text`` with email addresses and phone numbers (7 digits or more, dates excepted)
    replaced by ``[withheld]``."""
    return _PHONE.sub(_phone, _EMAIL.sub(WITHHELD, text))


def scrub_reporter(text: str, reporter: dict[str, Any]) -> str:
    """``text`` without the reporter's own name (whole, and each part of 2 letters or more),
    organization and email, nor any email address or phone number."""
    needles: list[str] = []
    for field in ("name", "organization", "email"):
        value = str(reporter.get(field) or "").strip()
        if len(value) >= 3:
            needles.append(value)
        if field == "name":
            needles += [part for part in re.split(r"\W+", value) if len(part) >= 2]
    lowered = text.lower()
    needles = [n for n in needles if n.lower() in lowered]  # most texts name nobody
    if needles:
        alternatives = "|".join(re.escape(n) for n in sorted(set(needles), key=len, reverse=True))
        text = re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", WITHHELD, text, flags=re.IGNORECASE)
    return scrub_contacts(text) if text else text


def reporter_view(
    reporter: dict[str, Any], audience: Audience, report_type: ReportType | str
) -> dict[str, Any]:
    """The reporter fields ``audience`` may see (``reporter`` is the stored dict)."""
    consent = bool(reporter.get("consent", False))
    if may_see_reporter(audience, consent, report_type):
        return dict(reporter)
    return {
        "name": WITHHELD if reporter.get("name") else "",
        "email": WITHHELD if reporter.get("email") else "",
        "organization": WITHHELD if reporter.get("organization") else "",
        "consent": consent,
    }


def report_view(report: dict[str, Any], audience: Audience) -> dict[str, Any]:
    """A stored report (its JSON form) as ``audience`` may see it."""
    kind = report["type"]
    out = dict(report)
    reporter = dict(report.get("reporter") or {})
    out["reporter"] = reporter_view(reporter, audience, kind)
    if may_see_reporter(audience, bool(reporter.get("consent")), kind):
        return out
    out["description"] = scrub_reporter(str(report.get("description") or ""), reporter)
    notice = report.get("copyright")
    if isinstance(notice, dict):
        out["copyright"] = {
            **notice,
            "signature": WITHHELD if notice.get("signature") else "",
            "work": scrub_reporter(str(notice.get("work") or ""), reporter),
        }
    out["trademark"] = scrub_reporter(str(report.get("trademark") or ""), reporter)
    out.pop("source", None)
    return out
