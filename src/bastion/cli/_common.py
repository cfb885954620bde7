"""Helpers shared by the CLI's command groups."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer


@contextmanager
def fail_cleanly() -> Iterator[None]:
    """Expected failures (a missing file, a bad model) print one line and exit with status 2."""
    from bastion.waf.model import ModelError

    try:
        yield
    except (ModelError, OSError) as exc:
        typer.echo(f"bastion: error: {exc}", err=True)
        raise typer.Exit(2) from None


def default_shared_root() -> Path | None:
    """``$BASTION_SHARED`` or the ``../shared`` directory beside the checkout, when present."""
    env = os.environ.get("BASTION_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd() / ".." / "shared", Path(__file__).resolve().parents[4] / "shared"]
    for c in candidates:
        if (c / "datasets" / "waf").is_dir():
            return c.resolve()
    return None
