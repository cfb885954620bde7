"""``bastion outbox``: deliver the durable outbox (notifications, reports) by hand."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from bastion.cli.serve import ConfigOption, load_or_exit

outbox_app = typer.Typer(no_args_is_help=True, help="Durable outbox: notifications and reports.")


@outbox_app.command("deliver")
def deliver(
    config: ConfigOption = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep delivering until Ctrl-C.")] = False,
) -> None:
    """Send what is due in the outbox once (or keep going with --watch).

    Uses the same settings as ``bastion serve`` (content_notify_url, content_report_url,
    content_reports_dir); a kind with no sender configured stays in the outbox.
    """
    from bastion.service.outbox import OutboxDeliverer, senders_from
    from bastion.store.db import Database

    settings = load_or_exit(config)
    senders = senders_from(
        settings.content_notify_url, settings.content_report_url, settings.content_reports_dir
    )
    if not senders:
        typer.echo(
            "bastion: nothing to deliver to: set content_notify_url, content_report_url "
            "or content_reports_dir",
            err=True,
        )
        raise typer.Exit(2)
    database = Database(settings.database_url)
    database.upgrade()
    deliverer = OutboxDeliverer(database, senders)
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
