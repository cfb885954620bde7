"""``bastion models ...``: the model registry, rollout and feedback from the command line.

Every command works on the configured database (``--config``, ``BASTION_*``); rollout
changes are audited with the actor ``cli`` and reach running workers within
``model_poll_s`` without a restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli._db import db_errors, open_database, require_schema
from bastion.cli.serve import ConfigOption

if TYPE_CHECKING:
    from bastion.store.modelops import ModelRegistry

models_app = typer.Typer(
    no_args_is_help=True, help="Model registry: register, shadow, canary, promote, roll back."
)

KindOption = Annotated[str, typer.Option(help="Model kind: waf or scripts.")]
ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the history and audit log).")]


@contextmanager
def _registry(config: Path | None, *, create: bool = False) -> Iterator[ModelRegistry]:
    from bastion.modelops import ArtifactError, RolloutError
    from bastion.store.modelops import ModelRegistry, RegistryError

    with db_errors():
        db = open_database(config, create=create)
        try:
            require_schema(db, create=create)
            yield ModelRegistry(db)
        except (ArtifactError, RolloutError, RegistryError) as exc:
            typer.echo(f"bastion: error: {str(exc).strip(chr(34) + chr(39))}", err=True)
            raise typer.Exit(2) from None
        finally:
            db.dispose()


def _print(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))


@models_app.command("register")
def register(
    paths: Annotated[list[Path], typer.Argument(help="Model files (.npz).")],
    config: ConfigOption = None,
    note: Annotated[str, typer.Option(help="Free text kept with the version.")] = "",
) -> None:
    """Validate model files (pipeline fingerprint included) and register them as candidates."""
    with _registry(config, create=True) as reg:
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as exc:
                typer.echo(f"bastion: error: cannot read {path}: {exc.strerror}", err=True)
                raise typer.Exit(2) from None
            info, new = reg.register(data, source=str(path), actor="cli", note=note)
            typer.echo(
                f"{'registered' if new else 'already registered'} {info['version']} "
                f"({info['kind']}, pipeline {info['pipeline']}, data {info['data_fingerprint']}, "
                f"status {info['status']})"
            )


@models_app.command("list")
def list_models(
    config: ConfigOption = None,
    kind: Annotated[str | None, typer.Option(help="waf or scripts.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Registered versions, newest first."""
    with _registry(config) as reg:
        rows = reg.list_versions(kind)
    if as_json:
        _print(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['version']}  {r['kind']:<7}  {r['status']:<9}  {r['registered_at']}  {r['source']}"
        )


@models_app.command("show")
def show(version: str, config: ConfigOption = None) -> None:
    """One version: fingerprints, metrics, model card and status history."""
    with _registry(config) as reg:
        _print({**reg.get(version), "history": reg.history(version=version)})


@models_app.command("status")
def status(config: ConfigOption = None, kind: KindOption = "waf") -> None:
    """The rollout state: active, canary (share, key), shadow, revision."""
    with _registry(config) as reg:
        _print(reg.rollout(kind).to_json())


@models_app.command("history")
def history(
    config: ConfigOption = None,
    kind: KindOption = "waf",
    limit: Annotated[int, typer.Option(help="Most events shown.")] = 50,
) -> None:
    """Status changes, newest first."""
    with _registry(config) as reg:
        for e in reg.history(kind=kind, limit=limit):
            typer.echo(
                f"{e['at']}  {e['version']}  {e['from'] or '-'} -> {e['to']}  "
                f"by {e['actor']}: {e['reason']}"
            )


@models_app.command("live")
def live(
    at: Annotated[str, typer.Argument(help="ISO time, e.g. 2026-11-23T10:00:00Z, or 'now'.")],
    config: ConfigOption = None,
    kind: KindOption = "waf",
    zone: Annotated[str | None, typer.Option(help="Zone (host) asked about.")] = None,
) -> None:
    """Which version was live (for a zone) at a time."""
    try:
        when = datetime.now(UTC) if at == "now" else datetime.fromisoformat(at)
    except ValueError:
        typer.echo(f"bastion: error: {at!r} is not an ISO time", err=True)
        raise typer.Exit(2) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    with _registry(config) as reg:
        _print(reg.live_at(kind, when, zone))


def _change(config: Path | None, operation: str, version: str | None, **kw: Any) -> None:
    with _registry(config) as reg:
        state = reg.transition(operation, version, actor="cli", **kw)
    _print(state.to_json())


@models_app.command("shadow")
def shadow(version: str, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Score live traffic with VERSION beside the active model; it only logs."""
    _change(config, "shadow", version, reason=reason)


@models_app.command("canary")
def canary(
    version: str,
    percent: Annotated[float, typer.Option(help="Share of traffic it acts on (0-100].")],
    config: ConfigOption = None,
    key: Annotated[str, typer.Option(help="Hash key: zone or client.")] = "zone",
    reason: ReasonOption = "",
) -> None:
    """Let VERSION act for PERCENT % of zones (or client addresses)."""
    _change(config, "canary", version, percent=percent, key=key, reason=reason)


@models_app.command("promote")
def promote(
    version: str,
    config: ConfigOption = None,
    reason: ReasonOption = "",
    gate: Annotated[
        bool, typer.Option(help="Refuse when the evaluation suites regress (WAF models).")
    ] = False,
    tolerance: Annotated[float, typer.Option(help="Allowed regression per suite.")] = 0.005,
) -> None:
    """Make VERSION the active model (the previous one is kept for rollback)."""
    if gate:
        _gate(config, version, tolerance)
    _change(config, "promote", version, reason=reason)


@models_app.command("rollback")
def rollback(
    config: ConfigOption = None, kind: KindOption = "waf", reason: ReasonOption = ""
) -> None:
    """Stop the canary; without one, re-activate the previously active model."""
    _change(config, "rollback", None, kind=kind, reason=reason)


@models_app.command("stop-shadow")
def stop_shadow(
    config: ConfigOption = None, kind: KindOption = "waf", reason: ReasonOption = ""
) -> None:
    """End the shadow run."""
    _change(config, "stop-shadow", None, kind=kind, reason=reason)


@models_app.command("retire")
def retire(version: str, config: ConfigOption = None, reason: ReasonOption = "") -> None:
    """Retire a candidate, shadow or canary."""
    _change(config, "retire", version, reason=reason)


@models_app.command("shadow-report")
def shadow_report(version: str, config: ConfigOption = None) -> None:
    """Disagreement of VERSION with the active model per vector (class flips, deltas)."""
    with _registry(config) as reg:
        _print(reg.shadow_report(version))


def _gate(config: Path | None, version: str, tolerance: float) -> None:
    import tempfile

    from bastion.modelops.gate import evaluate_gate

    with _registry(config) as reg:
        state = reg.rollout(reg.get(version)["kind"])
        if state.active is None:
            return
        candidate, active = reg.artifact(version), reg.artifact(state.active)
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate_gate(active, candidate, Path(tmp), tolerance=tolerance)
    _print(report)
    if not report["passed"]:
        typer.echo(f"bastion: error: promotion refused: {report['summary']}", err=True)
        raise typer.Exit(1)
