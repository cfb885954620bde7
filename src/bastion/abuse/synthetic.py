"""Synthetic abuse reports, to drive load (``bastion abuse replay --synthetic N``) and the
benchmark: a fixed-seed mix of types, zones, URLs (many repeated, so cases dedupe) and
reporters (some anonymous, some consenting)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from bastion.abuse.reports import Report, ReportSubmission, ReportType

#: Relative frequency of each type (phishing and spam dominate real abuse desks).
TYPE_WEIGHTS: dict[ReportType, int] = {
    ReportType.PHISHING: 35,
    ReportType.SPAM: 20,
    ReportType.MALWARE: 12,
    ReportType.COPYRIGHT: 10,
    ReportType.HARASSMENT: 8,
    ReportType.TRADEMARK: 5,
    ReportType.OTHER: 5,
    ReportType.VIOLENT_EXTREMISM: 3,
    ReportType.CSAM: 2,
}


def synthetic_reports(
    n: int,
    *,
    seed: int = 7,
    zones: Sequence[str] = ("shop.example", "blog.example", "news.example"),
    paths_per_zone: int = 2000,
    unattributed_share: float = 0.2,
    reporters: int = 5000,
    at: datetime | None = None,
) -> Iterator[Report]:
    """``n`` accepted reports (deterministic for a seed, apart from their ids)."""
    rng = random.Random(seed)
    types = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    received = at or datetime.now(UTC)
    for _ in range(n):
        kind = rng.choices(types, weights)[0]
        if rng.random() < unattributed_share:
            host = f"site{rng.randrange(10_000)}.test"
        else:
            host = f"{rng.choice(['www', 'login', 'cdn', 'app'])}.{rng.choice(zones)}"
        # Popularity is skewed (a few URLs draw most reports), so reports dedupe into cases.
        url = f"https://{host}/p/{int(paths_per_zone * rng.random() ** 3)}"
        who = rng.randrange(reporters)
        anonymous = rng.random() < 0.3
        reporter = {
            "name": "" if anonymous else f"Reporter {who}",
            "email": "" if anonymous else f"reporter{who}@reports.example",
            "consent": rng.random() < 0.4,
        }
        fields: dict[str, object] = {
            "type": kind.value,
            "urls": [url],
            "description": f"synthetic report {rng.randrange(1 << 30):x}",
            "reporter": reporter,
        }
        if kind is ReportType.COPYRIGHT:
            reporter.update(name=f"Owner {who}", email=f"owner{who}@rights.example")
            fields["copyright"] = {
                "work": f"Work #{rng.randrange(1000)}",
                "infringing_urls": [url],
                "good_faith": True,
                "accurate": True,
                "signature": f"Owner {who}",
            }
            fields["urls"] = []
        yield ReportSubmission.model_validate(fields).accept(
            source="synthetic", received_at=received
        )
