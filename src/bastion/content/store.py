"""Where banks persist: a small interface and a directory-of-CSV-files implementation.

:class:`CsvDirectoryStore` keeps each bank as two files in one directory:

* ``NAME.csv``: the live entries in the export layout (see :mod:`bastion.content.csvio`),
  so the file can be handed to any tool that reads ThreatExchange/HMA hash lists;
* ``NAME.json``: the settings (signal type, distance, enabled, allow) and tombstones.

Both are written to a temporary file and renamed, so a reader or a crash never sees a
half-written bank. A database-backed store can implement :class:`BankStore` later.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

from bastion.content.bank import Bank, validate_bank_name
from bastion.content.csvio import read_csv, write_csv

__all__ = ["BankStore", "BankStoreError", "CsvDirectoryStore", "MemoryBankStore"]

_FORMAT: Final = 1


class BankStoreError(Exception):
    """A bank is missing or its files cannot be read."""


class BankStore(Protocol):
    """Persistence for banks."""

    def names(self) -> list[str]:
        """Names of the stored banks, sorted."""

    def exists(self, name: str) -> bool:
        """Whether a bank called ``name`` is stored."""

    def load(self, name: str) -> Bank:
        """The stored bank; ``BankStoreError`` when missing or unreadable."""

    def save(self, bank: Bank) -> None:
        """Store ``bank`` (settings, live entries, tombstones), replacing any older copy."""

    def delete(self, name: str) -> None:
        """Forget a bank; ``BankStoreError`` when missing."""

    def load_all(self) -> list[Bank]:
        """Every stored bank, by name."""


class MemoryBankStore:
    """A :class:`BankStore` in a dict (tests, embedding)."""

    def __init__(self) -> None:
        self._banks: dict[str, Bank] = {}

    def names(self) -> list[str]:
        return sorted(self._banks)

    def exists(self, name: str) -> bool:
        return name in self._banks

    def load(self, name: str) -> Bank:
        try:
            return self._banks[name]
        except KeyError:
            raise BankStoreError(f"no bank named {name!r}") from None

    def save(self, bank: Bank) -> None:
        self._banks[bank.name] = bank

    def delete(self, name: str) -> None:
        if self._banks.pop(name, None) is None:
            raise BankStoreError(f"no bank named {name!r}")

    def load_all(self) -> list[Bank]:
        return [self._banks[n] for n in self.names()]


class CsvDirectoryStore:
    """Banks as ``NAME.csv`` + ``NAME.json`` files in ``root`` (created on first save)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _paths(self, name: str) -> tuple[Path, Path]:
        validate_bank_name(name)
        return self.root / f"{name}.csv", self.root / f"{name}.json"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if (p.with_suffix(".csv")).is_file())

    def exists(self, name: str) -> bool:
        csv_path, meta_path = self._paths(name)
        return csv_path.is_file() and meta_path.is_file()

    def load(self, name: str) -> Bank:
        csv_path, meta_path = self._paths(name)
        if not meta_path.is_file():
            raise BankStoreError(f"no bank named {name!r} in {self.root}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            bank = Bank(
                name,
                str(meta["signal_type"]),
                distance=int(meta["distance"]),
                enabled=bool(meta["enabled"]),
                allow=bool(meta["allow"]),
            )
            removed = {str(k): str(v) for k, v in dict(meta.get("removed", {})).items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BankStoreError(f"cannot read {meta_path}: {exc}") from None
        try:
            text = csv_path.read_text(encoding="utf-8") if csv_path.is_file() else ""
        except OSError as exc:
            raise BankStoreError(f"cannot read {csv_path}: {exc}") from None
        parsed = read_csv(text, bank.signal)
        if parsed.skipped:
            line, reason = parsed.skipped[0]
            raise BankStoreError(
                f"{csv_path}:{line}: {reason} ({parsed.skipped_count} bad rows in all)"
            )
        bank.add_all(parsed.entries)
        bank.removed.update(removed)
        return bank

    def save(self, bank: Bank) -> None:
        csv_path, meta_path = self._paths(bank.name)
        self.root.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {
            "format": _FORMAT,
            "name": bank.name,
            "signal_type": bank.signal_type,
            "distance": bank.distance,
            "enabled": bank.enabled,
            "allow": bank.allow,
            "entries": len(bank),
            "removed": dict(sorted(bank.removed.items())),
        }
        self._write(csv_path, lambda f: write_csv(bank, f))
        self._write(meta_path, lambda f: f.write(json.dumps(meta, indent=2) + "\n"))

    def delete(self, name: str) -> None:
        csv_path, meta_path = self._paths(name)
        if not meta_path.is_file():
            raise BankStoreError(f"no bank named {name!r} in {self.root}")
        meta_path.unlink()
        csv_path.unlink(missing_ok=True)

    def load_all(self) -> list[Bank]:
        return [self.load(n) for n in self.names()]

    def _write(self, path: Path, fill: Callable[[TextIO], object]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                fill(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
