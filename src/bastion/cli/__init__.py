"""Command-line interface: a thin layer over the library, one module per command group."""

from __future__ import annotations

import typer

from bastion import __version__
from bastion.cli._common import default_shared_root, fail_cleanly
from bastion.cli.abuse import abuse_app
from bastion.cli.content import content_app
from bastion.cli.models import models_app
from bastion.cli.outbox import outbox_app
from bastion.cli.scripts import scripts_app
from bastion.cli.serve import serve
from bastion.cli.tokens import db_app, token_app
from bastion.cli.waf import waf_app

__all__ = ["app", "default_shared_root", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="bastion edge security.")
app.add_typer(waf_app, name="waf")
app.command()(serve)
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
app.add_typer(outbox_app, name="outbox")
app.add_typer(scripts_app, name="scripts")
app.add_typer(abuse_app, name="abuse")
app.add_typer(models_app, name="models")


@app.command()
def version() -> None:
    """Print bastion's version and the shipped WAF model version."""
    from bastion.waf import load_scorer

    with fail_cleanly():
        typer.echo(f"bastion {__version__}, WAF model {load_scorer().version}")


def main() -> None:
    """Console-script entry point."""
    app()
