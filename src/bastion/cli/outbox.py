"""``bastion outbox``: deliver the durable outbox by hand, list and re-queue dead letters."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer

from bastion.cli._db import db_errors, open_database
from bastion.cli.serve import ConfigOption, load_or_exit

outbox_app = typer.Typer(no_args_is_help=True, help="Durable outbox: notifications and reports.")


@outbox_app.command("deliver")
def deliver(
    config: ConfigOption = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep delivering until Ctrl-C.")] = False,
) -> None:
    """Send what is due in the outbox once (or keep going with --watch).

    Uses the same settings as ``bastion serve`` (content_notify_url, content_report_url,
    content_reports_dir, webhook_secret, outbox_max_attempts); a kind with no sender
    configured stays in the outbox.
    """
    from bastion.service.outbox import OutboxDeliverer, senders_for
    from bastion.store.db import Database

    settings = load_or_exit(config)
    senders = senders_for(settings)
    if not senders:
        typer.echo(
            "bastion: nothing to deliver to: set content_notify_url, content_report_url "
            "or content_reports_dir",
            err=True,
        )
        raise typer.Exit(2)
    database = Database(settings.database_url)
    database.upgrade()
    deliverer = OutboxDeliverer(database, senders, max_attempts=settings.outbox_max_attempts)
    try:
        while True:
            ok, failed = deliverer.run_once()
            typer.echo(f"delivered {ok}, failed {failed} (will retry with backoff)")
            if not watch:
                break
            time.sleep(settings.content_deliver_interval_s)
    except KeyboardInterrupt:
        pass
    finally:
        database.dispose()


@outbox_app.command("dead")
def dead(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List dead-lettered messages: undelivered after outbox_max_attempts attempts."""
    from bastion.service.outbox import dead_letters

    settings = load_or_exit(config)
    with db_errors():
        database = open_database(config)
        try:
            rows = dead_letters(database, settings.outbox_max_attempts)
        finally:
            database.dispose()
    for row in rows:
        if as_json:
            doc = {**asdict(row), "created_at": row.created_at.isoformat()}
            typer.echo(json.dumps(doc, sort_keys=True))
        else:
            typer.echo(f"{row.id}\t{row.kind}\t{row.key}\t{row.attempts}\t{row.last_error}")
    if not as_json:
        typer.echo(f"{len(rows)} dead-lettered message(s)", err=True)


@outbox_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Message ids (or --all).")] = None,
    config: ConfigOption = None,
    all_dead: Annotated[
        bool, typer.Option("--all", help="Re-queue every dead-lettered message.")
    ] = False,
) -> None:
    """Put dead-lettered messages back in the queue, due now, with a fresh attempt count."""
    from bastion.service.outbox import retry_dead

    if not ids and not all_dead:
        typer.echo("bastion: name message ids or pass --all", err=True)
        raise typer.Exit(2)
    settings = load_or_exit(config)
    with db_errors():
        database = open_database(config)
        try:
            count = retry_dead(database, settings.outbox_max_attempts, None if all_dead else ids)
        finally:
            database.dispose()
    typer.echo(f"re-queued {count} message(s)")
