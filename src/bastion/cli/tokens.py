"""``bastion token ...`` (API tokens) and ``bastion db ...`` (schema migrations).

Both read the database URL from the settings (``BASTION_DATABASE_URL`` or ``--config``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._db import (
    CliError,
    db_errors,
    missing_sqlite_file,
    open_database,
    require_schema,
)

if TYPE_CHECKING:
    from bastion.auth import TokenInfo

token_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="API tokens: create, list, revoke."
)
db_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Database schema: upgrade, current."
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML settings file (default: $BASTION_CONFIG)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_ROLES = "admin, trust_safety, analyst, ingest, site_owner"


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[list[str], typer.Option("--role", help=f"A role (repeatable): {_ROLES}.")],
    zone: Annotated[
        list[str] | None,
        typer.Option("--zone", help="A zone (hostname) a site_owner token may act on."),
    ] = None,
    rate_limit: Annotated[
        float | None,
        typer.Option("--rate-limit", help="Requests per second (default: the service's)."),
    ] = None,
    expires_days: Annotated[
        float | None, typer.Option("--expires-days", help="Expire after this many days.")
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Create a token and print it (shown this once: only its hash is stored)."""
    from bastion.auth import TokenSpec, TokenStore

    with db_errors():
        expires_at = None
        if expires_days is not None:
            if not expires_days > 0:
                raise CliError("--expires-days must be a positive number of days")
            expires_at = datetime.now(UTC) + timedelta(days=expires_days)
        # Check the request before touching (or creating) the database.
        TokenSpec.build(name, role, zone or (), rate_limit, expires_at)
        db = open_database(config, create=True)
        try:
            require_schema(db, create=True)
            issued = TokenStore(db).create(name, role, zone or (), rate_limit, expires_at)
        finally:
            db.dispose()
    if as_json:
        typer.echo(json.dumps({"token": issued.token, **issued.info.to_json()}))
        return
    typer.echo(f"token: {issued.token}")
    typer.echo(f"id:    {issued.info.id}")
    typer.echo("Store the token now: it is not shown again.", err=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _table(infos: list[TokenInfo]) -> str:
    now = datetime.now(UTC)
    header = ("ID", "NAME", "ROLES", "ZONES", "RATE/S", "STATUS", "CREATED", "EXPIRES", "LAST USED")
    rows = [header]
    for i in infos:
        rate = f"{i.rate_limit:g}" if i.rate_limit is not None else "default"
        rows.append(
            (
                i.id,
                i.name,
                ",".join(i.roles),
                ",".join(i.zones) or "-",
                rate,
                i.status(now),
                _when(i.created_at),
                _when(i.expires_at),
                _when(i.last_used_at),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


@token_app.command("list")
def list_tokens(
    active: Annotated[
        bool, typer.Option("--active", help="Only tokens that are neither revoked nor expired.")
    ] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """List tokens (never their secrets)."""
    from bastion.auth import TokenStore

    with db_errors():
        db = open_database(config)
        try:
            require_schema(db)
            infos = TokenStore(db).list(include_inactive=not active)
        finally:
            db.dispose()
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in infos], indent=2))
    elif infos:
        typer.echo(_table(infos))
    else:
        typer.echo("no tokens", err=True)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id.")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token; services stop accepting it within their token cache time."""
    from bastion.auth import TokenStore

    with db_errors():
        db = open_database(config)
        try:
            require_schema(db)
            revoked = TokenStore(db).revoke(token_id.strip())
        finally:
            db.dispose()
    typer.echo(f"revoked token {token_id}" if revoked else f"token {token_id} was already revoked")


@db_app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the schema to the newest revision (safe to run concurrently)."""
    with db_errors():
        db = open_database(config, create=True)
        try:
            db.upgrade()
            revision = db.current_revision()
            where = db.safe_url
        finally:
            db.dispose()
    typer.echo(f"database {where} is at revision {revision} (head)")


@db_app.command("current")
def current(config: ConfigOption = None) -> None:
    """Print the schema revision the database is at."""
    with db_errors():
        db = open_database(config, create=True)
        try:
            # A missing SQLite file is an empty database; do not create it just to say so.
            revision = None if missing_sqlite_file(db) else db.current_revision()
            head = db.head_revision()
        finally:
            db.dispose()
    if revision is None:
        typer.echo(f"none (empty database; head is {head}: run 'bastion db upgrade')")
    elif revision == head:
        typer.echo(f"{revision} (head)")
    else:
        typer.echo(f"{revision} (head is {head}: run 'bastion db upgrade')")
