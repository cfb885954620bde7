"""Hash lists in ThreatExchange/HMA CSV: exact on export, tolerant on import.

Export writes the layout of ThreatExchange's simple serialization, which HMA 1.x keeps
one file per signal type of (``<privacy group>.hash_pdq.te``): no header, one row per
hash, ``csv.writer`` defaults (comma, minimal quoting, CRLF)::

    hash,indicator_id,descriptor_id,timestamp,tags

with the tags separated by single spaces (sorted, for stable output).

Import accepts that layout and what hash lists commonly look like in the wild:

* a header row naming the columns, in any order (``hash``/``signal``/``indicator``,
  ``signal_type``/``indicator_type``, ``id``/``indicator_id``, ``descriptor_id``,
  ``timestamp``/``added_on``/``time``, ``tags``/``labels``);
* headerless rows ``hash,indicator_id,descriptor_id,timestamp,tags`` (HMA),
  ``signal_type,hash,...`` and ``pdq <hash>`` lines (ThreatExchange's file exchange),
  ``indicator_id,hash,...`` (the ThreatExchange CLI cache), or bare hashes;
* comma, tab or semicolon delimiters, a UTF-8 BOM, ``#`` comment lines, blank lines,
  upper-case hex, a ``0x`` prefix, tags separated by spaces, commas, ``;`` or ``|``.

Rows that cannot be used are skipped with their line number and a reason; rows of
another signal type than the bank's are skipped too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, TextIO

from bastion.content.bank import Bank, Entry
from bastion.content.signals import SignalType, get_signal_type, signal_types

__all__ = ["EXPORT_COLUMNS", "CsvImport", "export_csv", "read_csv", "write_csv"]

EXPORT_COLUMNS: Final = ("hash", "indicator_id", "descriptor_id", "timestamp", "tags")

_HEADER_NAMES: Final = {
    "hash": (
        "hash",
        "signal",
        "signal_value",
        "signal_str",
        "indicator",
        "value",
        "hash_value",
        "content_hash",
        "pdq",
        "pdq_hex",
        "md5",
        "sha256",
    ),
    "type": ("signal_type", "type", "indicator_type", "hash_type", "signal_type_name"),
    "indicator_id": ("indicator_id", "id", "ids", "hash_id", "signal_id"),
    "descriptor_id": ("descriptor_id", "first_descriptor_id"),
    "timestamp": ("timestamp", "time", "added_on", "created", "created_at", "date"),
    "tags": ("tags", "labels", "tag", "label", "categories"),
}
_HEADER_LOOKUP: Final = {name: col for col, names in _HEADER_NAMES.items() for name in names}
_TAG_SPLIT: Final = re.compile(r"[\s,;|]+")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]+")
_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_MAX_SKIPPED_KEPT: Final = 1000


@dataclass
class CsvImport:
    """What :func:`read_csv` found."""

    entries: list[Entry] = field(default_factory=list)
    rows: int = 0
    """Data rows seen (blank and comment lines excluded)."""
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """(line number, reason) of rows not used; at most the first 1000 are kept."""
    skipped_count: int = 0

    def skip(self, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < _MAX_SKIPPED_KEPT:
            self.skipped.append((line, reason))


# ---------------------------------------------------------------------------- export


def write_csv(entries: Iterable[Entry], out: TextIO) -> int:
    """Write ``entries`` in the export layout; returns the number of rows.

    ``out`` should be opened with ``newline=""`` (the writer emits CRLF itself).
    """
    writer = csv.writer(out)
    n = 0
    for e in entries:
        writer.writerow(
            (e.hash, e.indicator_id, e.descriptor_id, e.timestamp, " ".join(sorted(e.tags)))
        )
        n += 1
    return n


def export_csv(bank: Bank) -> str:
    """The live entries of ``bank`` as export-layout CSV text."""
    buf = io.StringIO(newline="")
    write_csv(bank, buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- import


def _clean(value: str) -> str:
    return _CONTROL.sub(" ", value).strip()


def _tags(value: str) -> frozenset[str]:
    return frozenset(t for t in _TAG_SPLIT.split(_clean(value)) if t and t.isprintable())


def _signal_name(value: str) -> type[SignalType] | None:
    try:
        return get_signal_type(value)
    except ValueError:
        return None


def _valid(signal: type[SignalType], value: str) -> str | None:
    try:
        return signal.normalize(value)
    except ValueError:
        return None


def _other_type(value: str, signal: type[SignalType]) -> str | None:
    """Name of another signal type ``value`` is a valid hash of (for the skip reason)."""
    for st in signal_types():
        if st is not signal and _valid(st, value) is not None:
            return st.name
    return None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank, non-comment line.

    Each physical line is parsed on its own: no field of a hash list spans lines (entries
    cannot hold control characters), so a stray quote spoils one row, not the rest of
    the file.
    """
    lines = _LINE_END.split(text.lstrip("\ufeff").replace("\x00", ""))
    sample = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    delimiter = next((d for d in (",", "\t", ";") if d in sample), None)
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if delimiter is None:
            yield number, stripped.split()
            continue
        try:
            row = next(csv.reader([line], delimiter=delimiter))
        except csv.Error as exc:
            yield number, [f"\x00{exc}"]
            continue
        fields = [f.strip() for f in row]
        if any(fields):
            yield number, fields


def _header(fields: list[str]) -> dict[str, int] | None:
    mapping: dict[str, int] = {}
    for i, f in enumerate(fields):
        col = _HEADER_LOOKUP.get(f.strip().lower().replace(" ", "_").replace("-", "_"))
        if col is not None and col not in mapping:
            mapping[col] = i
    if "hash" not in mapping:
        return None
    if any(_valid(st, f) is not None for st in signal_types() for f in fields):
        return None
    return mapping


def read_csv(source: str | TextIO, signal: str | type[SignalType]) -> CsvImport:
    """Parse a hash list for a bank of type ``signal``; never raises on bad rows."""
    st = get_signal_type(signal) if isinstance(signal, str) else signal
    text = source if isinstance(source, str) else source.read()
    result = CsvImport()
    header: dict[str, int] | None = None
    first = True
    for line, fields in _records(text):
        if fields and fields[0].startswith("\x00"):
            result.rows += 1
            result.skip(line, f"unreadable CSV: {fields[0][1:]}")
            continue
        if first:
            first = False
            header = _header(fields)
            if header is not None:
                continue
        result.rows += 1
        if header is not None:
            _from_header(result, line, fields, header, st)
        else:
            _from_plain(result, line, fields, st)
    return result


def _get(fields: list[str], i: int | None) -> str:
    return fields[i] if i is not None and i < len(fields) else ""


def _add(
    result: CsvImport, line: int, value: str, rest: list[str], tags: frozenset[str] = frozenset()
) -> None:
    """Append an entry from a normalized hash and [indicator, descriptor, time, tags]."""
    rest = [*rest, "", "", "", ""]
    try:
        entry = Entry(
            value,
            indicator_id=_clean(rest[0]),
            descriptor_id=_clean(rest[1]),
            timestamp=_clean(rest[2]),
            tags=tags | _tags(rest[3]),
        )
    except ValueError as exc:  # pragma: no cover - _clean/_tags make every field valid
        result.skip(line, str(exc))
        return
    result.entries.append(entry)


def _from_header(
    result: CsvImport, line: int, fields: list[str], header: dict[str, int], st: type[SignalType]
) -> None:
    raw = _get(fields, header["hash"])
    type_name = _get(fields, header.get("type"))
    if type_name:
        row_type = _signal_name(type_name)
        if row_type is None:
            result.skip(line, f"unknown signal type {type_name!r}")
            return
        if row_type is not st:
            result.skip(line, f"signal type {row_type.name}, the bank holds {st.name}")
            return
    value = _valid(st, raw)
    if value is None:
        result.skip(line, _bad_hash_reason(raw, st))
        return
    _add(
        result,
        line,
        value,
        [
            _get(fields, header.get("indicator_id")),
            _get(fields, header.get("descriptor_id")),
            _get(fields, header.get("timestamp")),
            _get(fields, header.get("tags")),
        ],
    )


def _from_plain(result: CsvImport, line: int, fields: list[str], st: type[SignalType]) -> None:
    f0 = fields[0]
    value = _valid(st, f0)
    if value is not None:  # hash,indicator_id,descriptor_id,timestamp,tags (HMA)
        _add(result, line, value, fields[1:5])
        return
    row_type = _signal_name(f0) if len(fields) > 1 else None
    if row_type is not None:  # signal_type,hash,... or "pdq <hash>"
        if row_type is not st:
            result.skip(line, f"signal type {row_type.name}, the bank holds {st.name}")
            return
        value = _valid(st, fields[1])
        if value is None:
            result.skip(line, _bad_hash_reason(fields[1], st))
            return
        _add(result, line, value, fields[2:6])
        return
    value = _valid(st, fields[1]) if len(fields) > 1 else None
    if value is not None:  # indicator_id,hash,descriptor_id,timestamp,tags (TE CLI cache)
        _add(result, line, value, [fields[0], *fields[2:5]])
        return
    result.skip(line, _bad_hash_reason(f0, st))


def _bad_hash_reason(raw: str, st: type[SignalType]) -> str:
    other = _other_type(raw, st)
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if other is not None:
        return f"{other} hash {shown!r} in a {st.name} bank"
    return f"not a {st.name} hash: {shown!r}"
