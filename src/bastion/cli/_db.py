"""Opening the configured database from the CLI, and its one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bastion.store import Database

# SQLAlchemy and Alembic are imported when a command runs, not when the CLI starts.


class CliError(Exception):
    """An expected failure, reported as one line on stderr with exit status 2."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


@contextmanager
def db_errors() -> Iterator[None]:
    """Bad settings, bad input and database failures: ``bastion: error: ...``, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from bastion.auth import TokenError
    from bastion.config import ConfigError
    from bastion.store import DatabaseError

    try:
        yield
    except (CliError, ConfigError, DatabaseError, TokenError, OSError) as exc:
        typer.echo(f"bastion: error: {_one_line(str(exc))}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        typer.echo(f"bastion: error: database: {_one_line(first)}", err=True)
        raise typer.Exit(2) from None


def open_database(config: Path | None, *, create: bool = False) -> Database:
    """The database named by the settings (``--config``, ``BASTION_*``).

    An SQLite file that does not exist is created only when ``create`` is true, so that
    read-only commands do not leave empty database files behind.
    """
    from bastion.config import load_settings
    from bastion.store import Database

    settings = load_settings(config)
    db = Database(settings.database_url)
    if not create and missing_sqlite_file(db):
        db.dispose()
        raise CliError(
            f"database file {db.url.database} does not exist "
            "(run 'bastion db upgrade' to create it)"
        )
    return db


def missing_sqlite_file(db: Database) -> bool:
    """Whether ``db`` is an SQLite file that does not exist yet."""
    name = db.url.database
    return db.dialect == "sqlite" and name not in (None, "", ":memory:") and not Path(name).exists()


def require_schema(db: Database, *, create: bool = False) -> None:
    """Fail unless the schema is at head; with ``create``, migrate an empty database first."""
    current = db.current_revision()
    if current is None and create:
        db.upgrade()
        return
    head = db.head_revision()
    if current is None:
        raise CliError(f"database {db.safe_url} is empty: run 'bastion db upgrade' first")
    if current != head:
        raise CliError(
            f"database schema is at revision {current}, this bastion needs {head}: "
            "run 'bastion db upgrade'"
        )
