"""Transparency reports: counts by type, action and period, as CSV, JSON and HTML+SVG.

A period is a year (``2026``), a quarter (``2026-Q4``) or a month (``2026-11``), always in
UTC; its counts are split by month. Metrics: ``reports`` (received, by type), ``cases``
(opened, by type), ``actions`` (taken by staff, by action), ``enforcement`` (blocks,
geo-blocks and interstitials, by case type) and ``legal_orders`` (received, by
jurisdiction), plus the legal orders in force during the period (authority, jurisdiction,
reference, countries and the size of their scope; not the URLs themselves).

The HTML is one self-contained file: inline SVG bar charts and the same numbers as tables
(no script, no external resource).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

import orjson

METRICS = ("reports", "cases", "actions", "enforcement", "legal_orders")
_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


class InvalidPeriodError(ValueError):
    """Not ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``."""


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, named as the user wrote it."""

    name: str
    start: datetime
    end: datetime

    def months(self) -> list[str]:
        """The ``YYYY-MM`` buckets of the period."""
        out = []
        year, month = self.start.year, self.start.month
        while datetime(year, month, 1, tzinfo=UTC) < self.end:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def _month_start(year: int, month: int) -> datetime:
    while month > 12:
        year, month = year + 1, month - 12
    return datetime(year, month, 1, tzinfo=UTC)


def parse_period(text: str) -> Period:
    """``2026`` (a year), ``2026-Q4`` (a quarter) or ``2026-11`` (a month)."""
    match = _PERIOD.match(text.strip().upper())
    if match is None:
        raise InvalidPeriodError(
            f"period {text!r} is not a year (2026), a quarter (2026-Q4) or a month (2026-11)"
        )
    year = int(match.group(1))
    if not 1970 <= year <= 9998:
        raise InvalidPeriodError(f"year {year} is out of range")
    if match.group(2):
        first = 3 * (int(match.group(2)) - 1) + 1
        return Period(f"{year}-Q{match.group(2)}", _month_start(year, first),
                      _month_start(year, first + 3))  # fmt: skip
    if match.group(3):
        month = int(match.group(3))
        if not 1 <= month <= 12:
            raise InvalidPeriodError(f"month {month:02d} is not 01-12")
        return Period(f"{year}-{month:02d}", _month_start(year, month),
                      _month_start(year, month + 1))  # fmt: skip
    return Period(str(year), _month_start(year, 1), _month_start(year + 1, 1))


@dataclass
class TransparencyReport:
    """Counts per ``(month, metric, key)`` and the orders in force in the period."""

    period: Period
    generated_at: datetime
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def add(self, month: str, metric: str, key: str, n: int) -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        if n:
            self.counts[(month, metric, key)] = self.counts.get((month, metric, key), 0) + n

    def totals(self) -> dict[str, dict[str, int]]:
        """``metric -> key -> count`` over the whole period (every metric present)."""
        out: dict[str, dict[str, int]] = {m: {} for m in METRICS}
        for (_, metric, key), n in sorted(self.counts.items()):
            out[metric][key] = out[metric].get(key, 0) + n
        return out

    def rows(self) -> list[tuple[str, str, str, int]]:
        """``(month, metric, key, count)`` in a stable order."""
        order = {m: i for i, m in enumerate(METRICS)}
        return sorted(
            ((mo, me, k, n) for (mo, me, k), n in self.counts.items()),
            key=lambda r: (r[0], order[r[1]], r[2]),
        )

    def to_json(self) -> dict[str, Any]:
        by_month: dict[str, dict[str, dict[str, int]]] = {m: {} for m in self.period.months()}
        for month, metric, key, n in self.rows():
            by_month.setdefault(month, {}).setdefault(metric, {})[key] = n
        return {
            "period": self.period.name,
            "from": self.period.start.isoformat(),
            "until": self.period.end.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "totals": self.totals(),
            "by_month": by_month,
            "legal_orders": self.orders,
        }

    def json_bytes(self) -> bytes:
        return orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2)

    def csv_text(self) -> str:
        """``period,month,metric,key,count``; a ``total`` month row per metric and key."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["period", "month", "metric", "key", "count"])
        for month, metric, key, n in self.rows():
            writer.writerow([self.period.name, month, metric, key, n])
        for metric, keys in self.totals().items():
            for key, n in keys.items():
                writer.writerow([self.period.name, "total", metric, key, n])
        return out.getvalue()

    def html(self) -> str:
        """One self-contained page: inline SVG bar charts per metric and the tables."""
        totals = self.totals()
        titles = {
            "reports": "Reports received, by type",
            "cases": "Cases opened, by type",
            "actions": "Actions taken, by action",
            "enforcement": "Blocks and interstitials, by case type",
            "legal_orders": "Legal orders received, by jurisdiction",
        }
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Transparency report {escape(self.period.name)}</title>",
            "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #999;"
            "padding:.25rem .5rem;text-align:left}td.n{text-align:right}</style>",
            "</head><body>",
            f"<h1>Transparency report {escape(self.period.name)}</h1>",
            f"<p>From {self.period.start.date()} to {self.period.end.date()} (exclusive), "
            f"UTC. Generated {escape(self.generated_at.isoformat())}.</p>",
        ]
        for metric in METRICS:
            parts.append(f"<h2>{titles[metric]}</h2>")
            parts.append(_bar_chart(titles[metric], totals[metric]))
            parts.append(_table(metric, self.rows(), self.period.months()))
        parts.append("<h2>Legal orders in force during the period</h2>")
        if self.orders:
            parts.append(
                "<table><tr><th>Authority</th><th>Jurisdiction</th><th>Reference</th>"
                "<th>Countries</th><th>URLs</th><th>Hosts</th><th>Valid from</th>"
                "<th>Valid until</th><th>State</th></tr>"
            )
            for o in self.orders:
                cells = [o["authority"], o["jurisdiction"], o["reference"],
                         " ".join(o["countries"]), o["url_count"], o["host_count"],
                         o["valid_from"], o["valid_until"] or "", o["state"]]  # fmt: skip
                parts.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells))
            parts.append("</table>")
        else:
            parts.append("<p>None.</p>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _bar_chart(title: str, values: dict[str, int]) -> str:
    if not values:
        return "<p>None.</p>"
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max(n for _, n in items)
    bar, gap, label_w, width = 18, 6, 160, 560
    height = len(items) * (bar + gap) + gap
    rows = []
    for i, (key, n) in enumerate(items):
        y = gap + i * (bar + gap)
        w = max(1, round((width - label_w - 70) * n / top))
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar - 4}" text-anchor="end">{escape(key)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="#3b6ea5"/>'
            f'<text x="{label_w + w + 6}" y="{y + bar - 4}">{n}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12"><title>{escape(title)}</title>'
        + "".join(rows)
        + "</svg>"
    )


def _table(metric: str, rows: list[tuple[str, str, str, int]], months: list[str]) -> str:
    grid: dict[str, dict[str, int]] = defaultdict(dict)
    for month, m, key, n in rows:
        if m == metric:
            grid[key][month] = n
    if not grid:
        return ""
    head = "".join(f"<th>{m}</th>" for m in months)
    lines = [f"<table><tr><th>{escape(metric)}</th>{head}<th>Total</th></tr>"]
    for key in sorted(grid):
        cells = "".join(f'<td class="n">{grid[key].get(m, 0)}</td>' for m in months)
        total = sum(grid[key].values())
        lines.append(f'<tr><th>{escape(key)}</th>{cells}<td class="n">{total}</td></tr>')
    lines.append("</table>")
    return "".join(lines)
