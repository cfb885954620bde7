"""The abuse report: what a reporter submits, validated, and what the desk keeps of it.

:class:`ReportSubmission` is the public intake's schema (the API's JSON body and the HTML
form's fields). :meth:`ReportSubmission.accept` validates the rules that depend on the type
(a copyright report is a DMCA-style notice: the work, the infringing URLs, the good-faith
and accuracy statements and a signature, and the reporter's name and email), canonicalizes
every URL and returns a :class:`Report` with an id and the time it was received.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bastion.abuse.errors import InvalidReportError, InvalidUrlError
from bastion.abuse.urls import canonicalize_url

MAX_URLS = 100
MAX_DESCRIPTION = 10_000
_EMAIL_RE = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]{2,}$")


class ReportType(StrEnum):
    """The kinds of abuse the desk takes."""

    PHISHING = "phishing"
    MALWARE = "malware"
    CSAM = "csam"
    COPYRIGHT = "copyright"
    TRADEMARK = "trademark"
    VIOLENT_EXTREMISM = "violent_extremism"
    HARASSMENT = "harassment"
    SPAM = "spam"
    OTHER = "other"


#: Human labels for the form, in the order it lists them.
TYPE_LABELS: dict[ReportType, str] = {
    ReportType.PHISHING: "Phishing (a site pretending to be another to steal credentials)",
    ReportType.MALWARE: "Malware (a site serving malicious software)",
    ReportType.CSAM: "Child sexual abuse material",
    ReportType.COPYRIGHT: "Copyright infringement (DMCA notice)",
    ReportType.TRADEMARK: "Trademark infringement",
    ReportType.VIOLENT_EXTREMISM: "Violent extremist content",
    ReportType.HARASSMENT: "Harassment or doxxing",
    ReportType.SPAM: "Spam",
    ReportType.OTHER: "Other",
}

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
UrlText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]


class Reporter(BaseModel):
    """Who reports; every field is optional except where the type needs it (copyright)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText = ""
    email: ShortText = ""
    organization: ShortText = ""
    #: May the site owner and the hosting provider see the name, email and organization?
    consent: bool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not _EMAIL_RE.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()

    @property
    def anonymous(self) -> bool:
        return not (self.name or self.email or self.organization)


class CopyrightNotice(BaseModel):
    """The DMCA-style notice fields of a copyright report (17 U.S.C. 512(c)(3))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The copyrighted work claimed to be infringed.
    work: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    #: Where the infringing material is (also the report's URLs).
    infringing_urls: list[UrlText] = Field(default_factory=list, max_length=MAX_URLS)
    #: "I have a good faith belief that use of the material is not authorized..."
    good_faith: bool = False
    #: "The information is accurate, and under penalty of perjury, I am authorized..."
    accurate: bool = False
    #: The full legal name typed as an electronic signature.
    signature: ShortText = ""


class ReportSubmission(BaseModel):
    """One report as submitted (API JSON body; the HTML form maps onto it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ReportType
    urls: list[UrlText] = Field(default_factory=list, max_length=MAX_URLS)
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] = ""
    reporter: Reporter = Field(default_factory=Reporter)
    copyright: CopyrightNotice | None = None
    #: For trademark reports: the mark and where it is registered.
    trademark: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""

    def accept(self, *, source: str, received_at: datetime | None = None) -> Report:
        """Validate the type's rules and canonicalize the URLs; raises
        :class:`InvalidReportError` or :class:`InvalidUrlError` naming the problem."""
        urls = list(self.urls)
        if self.type is ReportType.COPYRIGHT:
            urls += _check_copyright(self)
        elif self.copyright is not None:
            raise InvalidReportError("copyright: only copyright reports carry a DMCA notice")
        if not urls:
            raise InvalidReportError("urls: at least one URL is required")
        canonical: list[str] = []
        for i, url in enumerate(urls):
            try:
                c = canonicalize_url(url)
            except InvalidUrlError as exc:
                raise InvalidUrlError(f"urls[{i}] ({url[:100]!r}): {exc}") from None
            if c not in canonical:
                canonical.append(c)
        if len(canonical) > MAX_URLS:
            raise InvalidReportError(f"urls: at most {MAX_URLS} URLs per report")
        return Report(
            id=new_report_id(),
            type=self.type,
            urls=canonical,
            description=self.description,
            reporter=self.reporter,
            copyright=self.copyright,
            trademark=self.trademark,
            source=source,
            received_at=received_at or datetime.now(UTC),
        )


def _check_copyright(sub: ReportSubmission) -> list[str]:
    notice = sub.copyright
    if notice is None:
        raise InvalidReportError(
            "copyright: a copyright report needs the notice: work, infringing_urls, "
            "good_faith, accurate and signature"
        )
    missing = [
        name
        for name, ok in (
            ("copyright.good_faith", notice.good_faith),
            ("copyright.accurate", notice.accurate),
            ("copyright.signature", bool(notice.signature)),
            ("reporter.name", bool(sub.reporter.name)),
            ("reporter.email", bool(sub.reporter.email)),
        )
        if not ok
    ]
    if missing:
        raise InvalidReportError(
            "a DMCA notice needs the good-faith and accuracy statements, a signature and the "
            "reporter's name and email; missing: " + ", ".join(missing)
        )
    if not notice.infringing_urls and not sub.urls:
        raise InvalidReportError("copyright.infringing_urls: at least one URL is required")
    return list(notice.infringing_urls)


class Report(BaseModel):
    """An accepted report: canonical URLs, an id, where it came from and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    type: ReportType
    urls: list[str]
    description: str = ""
    reporter: Reporter = Field(default_factory=Reporter)
    copyright: CopyrightNotice | None = None
    trademark: str = ""
    #: ``web`` (the form), ``api`` (the public API), ``token:<id>``, ``cli``, ``replay``...
    source: str
    received_at: datetime

    @property
    def reporter_key(self) -> str:
        """A stable pseudonymous key of the reporter (for reputation and counts)."""
        return reporter_key(self.reporter.email, self.source, self.id)

    def to_event_data(self) -> dict[str, Any]:
        """The JSON-ready form carried on the event stream."""
        return self.model_dump(mode="json")


def reporter_key(email: str, source: str, report_id: str) -> str:
    """``sha256(email)`` for identified reporters; anonymous ones count once per report."""
    basis = f"email:{email.lower()}" if email else f"anon:{source}:{report_id}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def new_report_id() -> str:
    """32 hex characters: the milliseconds since the epoch, then 80 random bits (sortable)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
