"""``bastion content ...``: hash files, manage hash banks, scan a directory.

Banks live in a directory of CSV files (``--banks-dir``, default ``$BASTION_BANKS_DIR``
or ``./banks``); see :mod:`bastion.content.store`.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

if TYPE_CHECKING:
    from bastion.content import CsvDirectoryStore, DecodeLimits, ScanResult

content_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Content scanning: hash files, manage hash banks, scan a directory.",
)
bank_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Hash banks: create, import, export, list, enable, disable, remove hashes.",
)
content_app.add_typer(bank_app, name="bank")

#: File name extensions ``content scan`` treats as images (unless --all-files).
IMAGE_EXTENSIONS: Final = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".gif", ".webp", ".bmp", ".dib"}
    | {".tif", ".tiff", ".avif"}
)

BanksDir = Annotated[
    Path,
    typer.Option(
        "--banks-dir",
        envvar="BASTION_BANKS_DIR",
        help="Directory holding the banks (NAME.csv + NAME.json).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]


@contextmanager
def _fail_cleanly() -> Iterator[None]:
    """Expected failures print one line and exit with status 2."""
    from bastion.content import BankStoreError

    try:
        yield
    except (BankStoreError, OSError, ValueError, KeyError) as exc:
        message: object = exc
        if isinstance(exc, KeyError) and exc.args:
            message = exc.args[0]
        elif isinstance(exc, OSError) and exc.strerror and exc.filename:
            message = f"{exc.filename}: {exc.strerror.lower()}"
        typer.echo(f"bastion: error: {message}", err=True)
        raise typer.Exit(2) from None


def _read_file(path: Path, limits: DecodeLimits) -> bytes:
    """The bytes of a regular file, refusing (``TooLarge``) files over the byte limit."""
    from bastion.content import TooLarge

    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "is a directory")
        if stat.S_ISREG(st.st_mode) and st.st_size > limits.max_bytes:
            raise TooLarge(f"{st.st_size} bytes is over the {limits.max_bytes} byte limit")
        data = f.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise TooLarge(f"more than {limits.max_bytes} bytes (limit)")
    return data


def _os_error(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")


# ----------------------------------------------------------------------------- hash


@content_app.command("hash")
def content_hash(
    files: Annotated[list[Path], typer.Argument(help="Files to hash.", show_default=False)],
    as_json: JsonFlag = False,
    fast: Annotated[
        bool,
        typer.Option(
            "--fast",
            help="Decode JPEGs in draft mode (several times faster; PDQ within a few bits).",
        ),
    ] = False,
) -> None:
    """Print the PDQ hash (with quality), MD5 and SHA-256 of each file.

    PDQ is computed by pdqhash on the full RGB decode (as ThreatExchange/HMA do) unless
    --fast. A file that cannot be hashed gets an error line; the exit status stays 0.
    """
    from bastion.content import DEFAULT_LIMITS, ContentError, hash_content

    for path in files:
        shown = str(path)
        try:
            data = _read_file(path, DEFAULT_LIMITS)
            result = hash_content(data, fast=fast)
        except OSError as exc:
            _report_hash_error(shown, _os_error(exc), as_json)
            continue
        except ContentError as exc:
            _report_hash_error(shown, str(exc), as_json)
            continue
        if "pdq" in result.errors:
            _report_hash_error(shown, str(result.errors["pdq"]), as_json)
            continue
        pdq = result.hashes["pdq"]
        md5, sha256 = result.value("md5"), result.value("sha256")
        if as_json:
            _print_json(
                {"path": shown, "pdq": pdq.value, "quality": pdq.quality, "md5": md5}
                | {"sha256": sha256}
            )
        else:
            typer.echo(f"{pdq.value} {pdq.quality:3d} {md5} {sha256} {shown}")


def _report_hash_error(path: str, message: str, as_json: bool) -> None:
    if as_json:
        _print_json({"path": path, "error": message})
    else:
        typer.echo(f"bastion: {path}: {message}", err=True)


# ----------------------------------------------------------------------------- banks


def _store(banks_dir: Path) -> CsvDirectoryStore:
    from bastion.content import CsvDirectoryStore

    return CsvDirectoryStore(banks_dir)


@bank_app.command("create")
def bank_create(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    signal: Annotated[str, typer.Option(help="Signal type: pdq, md5 or sha256.")] = "pdq",
    distance: Annotated[
        int | None, typer.Option(help="Match distance (default: 31 for pdq, 0 otherwise).")
    ] = None,
    allow: Annotated[
        bool, typer.Option("--allow", help="An allow-bank: its matches suppress others.")
    ] = False,
    banks_dir: BanksDir = Path("banks"),
) -> None:
    """Create an empty bank."""
    from bastion.content import Bank

    with _fail_cleanly():
        store = _store(banks_dir)
        if store.exists(name):
            raise ValueError(f"bank {name!r} already exists in {banks_dir}")
        store.save(Bank(name, signal, distance=distance, allow=allow))
    typer.echo(f"created bank {name} ({signal})")


@bank_app.command("import")
def bank_import(
    name: Annotated[str, typer.Argument(help="Bank name (created when missing).")],
    file: Annotated[Path, typer.Argument(help="CSV hash list, or - for stdin.")],
    signal: Annotated[
        str | None,
        typer.Option(help="Signal type of a new bank: pdq (default), md5 or sha256."),
    ] = None,
    distance: Annotated[
        int | None, typer.Option(help="Set the bank's match distance (pdq default 31).")
    ] = None,
    allow: Annotated[
        bool | None,
        typer.Option("--allow/--no-allow", help="Make the bank an allow-bank (or not)."),
    ] = None,
    banks_dir: BanksDir = Path("banks"),
) -> None:
    """Import a ThreatExchange/HMA-style CSV hash list into a bank.

    Accepts HMA's headerless rows (hash,indicator_id,descriptor_id,timestamp,tags), a
    header naming the columns, ``signal_type,hash`` rows and bare hashes. Unusable rows
    are skipped and reported on stderr.
    """
    from bastion.content import Bank, get_signal_type, read_csv

    with _fail_cleanly():
        store = _store(banks_dir)
        if store.exists(name):
            bank = store.load(name)
            if signal is not None and get_signal_type(signal) is not bank.signal:
                raise ValueError(f"bank {name!r} holds {bank.signal_type} hashes, not {signal}")
            if distance is not None:
                bank.distance = distance
            if allow is not None:
                bank.allow = allow
            created = False
        else:
            bank = Bank(name, signal or "pdq", distance=distance, allow=bool(allow))
            created = True
        if str(file) == "-":
            text = sys.stdin.read()
        else:
            with open(file, encoding="utf-8-sig", errors="replace", newline="") as f:
                text = f.read()
        parsed = read_csv(text, bank.signal)
        new = len(bank.add_all(parsed.entries))
        store.save(bank)
    for line, reason in parsed.skipped[:20]:
        typer.echo(f"bastion: {file}:{line}: skipped: {reason}", err=True)
    if parsed.skipped_count > 20:
        typer.echo(f"bastion: ... {parsed.skipped_count - 20} more rows skipped", err=True)
    verb = "created" if created else "updated"
    typer.echo(
        f"{verb} bank {name} ({bank.signal_type}): {new} new of {len(parsed.entries)} rows "
        f"read, {parsed.skipped_count} skipped, {len(bank)} entries in all"
    )


@bank_app.command("export")
def bank_export(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    banks_dir: BanksDir = Path("banks"),
) -> None:
    """Export a bank's live entries as HMA CSV (hash,indicator_id,descriptor_id,timestamp,tags)."""
    from bastion.content import export_csv

    with _fail_cleanly():
        text = export_csv(_store(banks_dir).load(name))
        if output is None:
            sys.stdout.buffer.write(text.encode("utf-8"))
            sys.stdout.flush()
        else:
            with open(output, "w", encoding="utf-8", newline="") as f:
                f.write(text)


@bank_app.command("list")
def bank_list(as_json: JsonFlag = False, banks_dir: BanksDir = Path("banks")) -> None:
    """List the banks with their settings and sizes."""
    with _fail_cleanly():
        banks = _store(banks_dir).load_all()
    rows = [
        {
            "name": b.name,
            "signal": b.signal_type,
            "entries": len(b),
            "removed": len(b.removed),
            "distance": b.distance,
            "enabled": b.enabled,
            "allow": b.allow,
        }
        for b in banks
    ]
    if as_json:
        for row in rows:
            _print_json(row)
        return
    if not rows:
        typer.echo(f"no banks in {banks_dir}")
        return
    header = ("name", "signal", "entries", "removed", "distance", "enabled", "allow")
    table: list[tuple[str, ...]] = [header, *(tuple(str(r[k]) for k in header) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def _set_enabled(name: str, enabled: bool, banks_dir: Path) -> None:
    with _fail_cleanly():
        store = _store(banks_dir)
        bank = store.load(name)
        bank.enabled = enabled
        store.save(bank)
    typer.echo(f"bank {name} {'enabled' if enabled else 'disabled'}")


@bank_app.command("enable")
def bank_enable(
    name: Annotated[str, typer.Argument(help="Bank name.")], banks_dir: BanksDir = Path("banks")
) -> None:
    """Enable a bank (its hashes match again)."""
    _set_enabled(name, True, banks_dir)


@bank_app.command("disable")
def bank_disable(
    name: Annotated[str, typer.Argument(help="Bank name.")], banks_dir: BanksDir = Path("banks")
) -> None:
    """Disable a bank (kept, but never matched)."""
    _set_enabled(name, False, banks_dir)


@bank_app.command("remove")
def bank_remove(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    hashes: Annotated[list[str], typer.Argument(help="Hashes to remove (tombstone).")],
    banks_dir: BanksDir = Path("banks"),
) -> None:
    """Remove hashes from a bank; they are kept as tombstones and no longer match."""
    with _fail_cleanly():
        store = _store(banks_dir)
        bank = store.load(name)
        gone = sum(bank.remove(h) is not None for h in hashes)
        store.save(bank)
    typer.echo(f"removed {gone} of {len(hashes)} hashes from bank {name}")


# ----------------------------------------------------------------------------- scan


def _walk(root: Path, all_files: bool) -> list[Path]:
    if not root.is_dir():
        return [root]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if (all_files or p.suffix.lower() in IMAGE_EXTENSIONS) and not p.is_symlink():
                found.append(p)
    return found


def _scan_json(path: str, result: ScanResult) -> dict[str, Any]:
    obj: dict[str, Any] = {"path": path}
    pdq = result.hashes.get("pdq")
    if pdq is not None:
        obj["pdq"] = pdq.value
        obj["quality"] = pdq.quality
    for name in ("md5", "sha256"):
        if name in result.hashes:
            obj[name] = result.hashes[name].value
    if "pdq" in result.errors:
        obj["error"] = str(result.errors["pdq"])
    obj["matched"] = result.matched
    obj["matches"] = [m.to_json() for m in result.matches]
    if result.allowed:
        obj["allowed"] = [m.to_json() for m in result.allowed]
    if result.suppressed:
        obj["suppressed"] = [m.to_json() for m in result.suppressed]
    if result.low_quality:
        obj["low_quality"] = True
    return obj


@content_app.command("scan")
def content_scan(
    directory: Annotated[Path, typer.Argument(help="Directory (or file) to scan.")],
    as_json: JsonFlag = False,
    banks_dir: BanksDir = Path("banks"),
    dihedral: Annotated[
        bool, typer.Option("--dihedral", help="Also match rotated and mirrored copies.")
    ] = False,
    exact: Annotated[
        bool, typer.Option("--exact", help="Full-resolution decoding (slower).")
    ] = False,
    all_files: Annotated[
        bool, typer.Option("--all-files", help="Try every file, not only image extensions.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
    fail_on_match: Annotated[
        bool, typer.Option("--fail-on-match", help="Exit with status 1 when anything matched.")
    ] = False,
) -> None:
    """Hash every image under DIRECTORY and match it against the enabled banks."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from bastion.content import DEFAULT_LIMITS, ContentError, Matcher

    with _fail_cleanly():
        if not directory.exists():
            raise FileNotFoundError(2, f"no such file or directory: {directory}")
        matcher = Matcher(_store(banks_dir).load_all())
        matcher.compact()
        paths = _walk(directory, all_files)
    if not any(b.enabled for b in matcher.banks):
        typer.echo(f"bastion: warning: no enabled banks in {banks_dir}", err=True)
    counts = {"files": 0, "matched": 0, "errors": 0, "suppressed": 0}
    console = Console(stderr=True, soft_wrap=True)
    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not progress or not console.is_terminal,
        transient=True,
    )
    with bar:
        task = bar.add_task("scan", total=len(paths))
        for path in paths:
            counts["files"] += 1
            shown = str(path)
            try:
                data = _read_file(path, DEFAULT_LIMITS)
                result = matcher.scan(data, fast=not exact, dihedral=dihedral)
            except (OSError, ContentError) as exc:
                message = _os_error(exc) if isinstance(exc, OSError) else str(exc)
                counts["errors"] += 1
                if as_json:
                    _print_json({"path": shown, "error": message})
                else:
                    console.print(f"bastion: {shown}: {message}", markup=False)
                bar.advance(task)
                continue
            counts["errors"] += "pdq" in result.errors
            counts["matched"] += result.matched
            counts["suppressed"] += bool(result.suppressed)
            if as_json:
                _print_json(_scan_json(shown, result))
            else:
                if "pdq" in result.errors:
                    console.print(f"bastion: {shown}: {result.errors['pdq']}", markup=False)
                for m in result.matches:
                    ids = ",".join(m.entry.ids) or "-"
                    typer.echo(
                        f"MATCH {shown} bank={m.bank} signal={m.signal} distance={m.distance} "
                        f"ids={ids} hash={m.entry.hash}"
                    )
            bar.advance(task)
    typer.echo(
        f"scanned {counts['files']} files: {counts['matched']} matched, "
        f"{counts['suppressed']} suppressed by allow-banks, {counts['errors']} errors",
        err=True,
    )
    if fail_on_match and counts["matched"]:
        raise typer.Exit(1)
