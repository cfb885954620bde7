"""``bastion abuse orders|transparency`` and ``bastion abuse cases bulk``: legal orders, the
transparency report and bulk case actions, from the command line (actor ``cli``, audited).

Registered on :data:`bastion.cli.abuse.abuse_app` when that module is imported.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli._db import CliError, db_errors
from bastion.cli.abuse import JsonOption, _fail, _with_db, abuse_app, cases_app
from bastion.cli.serve import ConfigOption, load_or_exit

orders_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Legal orders: add, list, withdraw."
)
abuse_app.add_typer(orders_app, name="orders")

Repeated = Annotated[list[str] | None, typer.Option()]


def _when(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{what} {text!r} is not an ISO 8601 date or time (2026-12-01T00:00:00Z)")
    return None


@orders_app.command("add")
def orders_add(
    authority: Annotated[str, typer.Option(help="Who ordered it (a court, a regulator).")],
    jurisdiction: Annotated[str, typer.Option(help="DE, EU, US-CA, ...")],
    reference: Annotated[str, typer.Option(help="The authority's reference.")],
    country: Annotated[
        list[str], typer.Option("--country", help="Where it applies (repeatable; DE).")
    ],
    url: Annotated[list[str] | None, typer.Option("--url", help="A URL (repeatable).")] = None,
    host: Annotated[
        list[str] | None, typer.Option("--host", help="A host and its subdomains (repeatable).")
    ] = None,
    valid_from: Annotated[str | None, typer.Option(help="ISO 8601; default now.")] = None,
    valid_until: Annotated[str | None, typer.Option(help="ISO 8601; default open.")] = None,
    blocked_by: Annotated[
        str | None, typer.Option(help="Link target of the 451 (default abuse_blocked_by_url).")
    ] = None,
    description: Annotated[str, typer.Option(help="Notes.")] = "",
    config: ConfigOption = None,
) -> None:
    """Record a legal order; the edge enforces it within abuse_enforcement_refresh_s."""
    from pydantic import ValidationError

    from bastion.abuse.errors import AbuseError
    from bastion.abuse.orders import OrderSubmission
    from bastion.store.abuse_orders import create_order
    from bastion.store.abuse_sql import now_utc

    settings = load_or_exit(config)
    try:
        submission = OrderSubmission.model_validate(
            {
                "authority": authority,
                "jurisdiction": jurisdiction,
                "reference": reference,
                "urls": url or [],
                "hosts": host or [],
                "countries": country,
                "valid_from": _when(valid_from, "--valid-from"),
                "valid_until": _when(valid_until, "--valid-until"),
                "blocked_by": blocked_by,
                "description": description,
            }
        )
        order = submission.accept(default_blocked_by=settings.abuse_blocked_by_url, now=now_utc())
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"{'.'.join(str(p) for p in first['loc']) or 'order'}: {first['msg']}")
    except AbuseError as exc:
        _fail(str(exc))
    with db_errors():
        db = _with_db(config)
        try:
            with db.session(write=True) as session:
                stored = create_order(session, order, actor="cli")
        finally:
            db.dispose()
    typer.echo(json.dumps(stored.to_json()))


@orders_app.command("list")
def orders_list(
    state: Annotated[str | None, typer.Option(help="active or withdrawn.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Legal orders, newest first."""
    from bastion.store.abuse_orders import list_orders

    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                orders = [o.to_json() for o in list_orders(session, state=state, limit=10_000)]
        finally:
            db.dispose()
    if as_json:
        typer.echo(json.dumps(orders))
        return
    for o in orders:
        scope = len(o["urls"]) + len(o["hosts"])
        typer.echo(
            f"{o['id']:>5}  {o['state']:<9}  {o['jurisdiction']:<6}  {','.join(o['countries']):<12}"
            f"  {scope:>4} in scope  {o['authority']} {o['reference']}"
        )
    if not orders:
        typer.echo("no legal orders")


@orders_app.command("withdraw")
def orders_withdraw(
    order_id: Annotated[int, typer.Argument(help="The order id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    config: ConfigOption = None,
) -> None:
    """Withdraw an order (the edge stops enforcing it)."""
    from bastion.store.abuse_orders import OrderNotFound, withdraw_order

    with db_errors():
        db = _with_db(config)
        try:
            with db.session(write=True) as session:
                order = withdraw_order(session, order_id, actor="cli", reason=reason)
        except OrderNotFound as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(json.dumps(order.to_json()))


@cases_app.command("bulk")
def cases_bulk(
    action: Annotated[str, typer.Argument(help="The action, as for 'cases act'.")],
    case: Annotated[
        list[int] | None, typer.Option("--case", help="A case id (repeatable).")
    ] = None,
    state: Annotated[str | None, typer.Option(help="Select cases in this state.")] = None,
    report_type: Annotated[str | None, typer.Option("--type", help="... of this type.")] = None,
    zone: Annotated[str | None, typer.Option(help="... of this zone.")] = None,
    reason: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    assignee: Annotated[str | None, typer.Option(help="Who works the cases.")] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="geo_block: a country (repeatable).")
    ] = None,
    override: Annotated[
        bool, typer.Option("--override", help="close: without a re-check (needs --reason).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """One action on many cases: the ids given and/or those matching the filters (at most
    1000); each case succeeds or fails on its own; audited per case and as a whole."""
    from bastion.abuse import ActionRequest, CaseAction, InvalidActionError
    from bastion.store.abuse import list_cases
    from bastion.store.abuse_orders import MAX_BULK, act_bulk

    try:
        kind = CaseAction(action)
    except ValueError:
        _fail(f"unknown action {action!r}: one of {', '.join(a.value for a in CaseAction)}")
    ids = set(case or ())
    filtered = state is not None or report_type is not None or zone is not None
    if not ids and not filtered:
        _fail("name cases with --case, or select them with --state, --type or --zone")
    request = ActionRequest(kind, reason, assignee, tuple(country or ()), override)
    with db_errors():
        db = _with_db(config)
        try:
            if filtered:
                with db.session() as session:
                    found = list_cases(session, state=state, type=report_type, zone=zone,
                                       limit=MAX_BULK + 1)  # fmt: skip
                ids |= {c["id"] for c in found}
            if len(ids) > MAX_BULK:
                raise CliError(f"{len(ids)} cases selected: at most {MAX_BULK} at once")
            if not ids:
                raise CliError("no case matches")
            outcome = act_bulk(db, ids, request, actor="cli")
        except InvalidActionError as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(json.dumps(outcome.to_json()))


@abuse_app.command("transparency")
def transparency(
    period: Annotated[str, typer.Option(help="2026 (year), 2026-Q4 (quarter), 2026-11.")],
    out: Annotated[Path, typer.Option(help="Directory for the CSV, JSON and HTML.")] = Path("."),
    config: ConfigOption = None,
) -> None:
    """Write the transparency report: counts by type, action and month, legal orders
    (transparency-<period>.csv, .json and .html with an inline SVG chart)."""
    from bastion.abuse.transparency import InvalidPeriodError, parse_period
    from bastion.store.abuse_orders import transparency as build

    try:
        parsed = parse_period(period)
    except InvalidPeriodError as exc:
        _fail(str(exc))
    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                report = build(session, parsed)
        finally:
            db.dispose()
    try:
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"transparency-{parsed.name}"
        paths = {
            "csv": stem.with_suffix(".csv"),
            "json": stem.with_suffix(".json"),
            "html": stem.with_suffix(".html"),
        }
        paths["csv"].write_text(report.csv_text())
        paths["json"].write_bytes(report.json_bytes())
        paths["html"].write_text(report.html())
    except OSError as exc:
        _fail(f"cannot write the report into {out}: {exc.strerror}")
    totals = report.totals()
    typer.echo(
        json.dumps(
            {
                "period": parsed.name,
                "files": {k: str(v) for k, v in paths.items()},
                "reports": sum(totals["reports"].values()),
                "actions": sum(totals["actions"].values()),
                "legal_orders": len(report.orders),
            }
        )
    )


# -- partner sharing -------------------------------------------------------------------------

partners_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Sharing partners: add, revoke."
)
abuse_app.add_typer(partners_app, name="partners")


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Argument(help="The partner's name (provenance of its data).")],
    trust: Annotated[int, typer.Option(help="0 (unknown) to 100 (fully trusted).")] = 50,
    config: ConfigOption = None,
) -> None:
    """Register a partner; prints its feed token once (stored hashed)."""
    from bastion.store.abuse_orders import create_partner

    with db_errors():
        db = _with_db(config)
        try:
            with db.session(write=True) as session:
                partner, token = create_partner(session, name, trust, actor="cli")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(json.dumps({"id": partner.id, "name": partner.name, "trust": partner.trust,
                           "token": token}))  # fmt: skip


@partners_app.command("revoke")
def partners_revoke(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    config: ConfigOption = None,
) -> None:
    """Revoke the partner's feed token."""
    from bastion.store.abuse_orders import revoke_partner

    with db_errors():
        db = _with_db(config)
        try:
            with db.session(write=True) as session:
                done = revoke_partner(session, name, actor="cli")
        finally:
            db.dispose()
    if not done:
        _fail(f"no active partner named {name!r}")
    typer.echo(json.dumps({"name": name, "revoked": True}))


@abuse_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="The STIX 2.1 bundle to write (JSON).")],
    since: Annotated[str | None, typer.Option(help="Only what changed since (ISO 8601).")] = None,
    hashes: Annotated[
        bool, typer.Option(help="Include SHA-256 of content-scanning blocks.")
    ] = False,
    producer: Annotated[str, typer.Option(help="The identity named as creator.")] = (
        "bastion abuse desk"
    ),
    config: ConfigOption = None,
) -> None:
    """Export confirmed indicators (URLs, domains, hashes) with provenance as STIX 2.1."""
    import orjson

    from bastion.abuse.sharing import stix_bundle
    from bastion.store.abuse_orders import indicators
    from bastion.store.abuse_sql import now_utc

    start = _when(since, "--since")
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=now_utc().tzinfo)
    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                found = indicators(session, since=start, hashes=hashes)
        finally:
            db.dispose()
    bundle = stix_bundle(found, producer=producer, now=now_utc())
    try:
        out.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    typer.echo(json.dumps({"file": str(out), "indicators": len(found)}))


@abuse_app.command("import")
def import_feed(
    path: Annotated[Path, typer.Argument(help="A partner's list: text, CSV or JSON.")],
    partner: Annotated[str, typer.Option(help="The partner it comes from (registered).")],
    feed_format: Annotated[
        str, typer.Option("--format", help="auto, text (OpenPhish), csv (URLhaus), json.")
    ] = "auto",
    report_type: Annotated[
        str, typer.Option("--type", help="Type of entries that name no threat.")
    ] = "phishing",
    config: ConfigOption = None,
) -> None:
    """Import a partner's indicators onto the stream as reports (its provenance and trust
    recorded; entries that cannot be read are listed and skipped)."""
    from bastion.abuse.errors import AbuseError
    from bastion.abuse.events import report_event
    from bastion.abuse.reports import ReportType
    from bastion.abuse.sharing import feed_reports, parse_feed
    from bastion.cli.abuse import _publish
    from bastion.store.abuse_orders import partner_by_name
    from bastion.store.abuse_sql import now_utc

    settings = load_or_exit(config)
    try:
        kind = ReportType(report_type)
    except ValueError:
        _fail(f"unknown type {report_type!r}: one of {', '.join(t.value for t in ReportType)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    try:
        parsed = parse_feed(data, feed_format, kind)
    except AbuseError as exc:
        _fail(f"{path}: {exc}")
    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                found = partner_by_name(session, partner)
        finally:
            db.dispose()
    if found is None:
        _fail(f"no active partner named {partner!r}: bastion abuse partners add {partner!r}")
        return
    reports = feed_reports(parsed.items, partner=found.name, trust=found.trust,
                           received_at=now_utc())  # fmt: skip
    events = [report_event(r) for r in reports]
    import asyncio

    from bastion.stream import StreamError

    try:
        asyncio.run(_publish(settings, events, 1000))
    except StreamError as exc:
        _fail(f"the event stream is unavailable: {exc}")
    for where, why in parsed.errors:
        typer.echo(f"{path}:{where}: skipped: {why}", err=True)
    typer.echo(json.dumps({"partner": found.name, "trust": found.trust,
                           "published": len(events), "skipped": parsed.skipped}))  # fmt: skip


# -- machine-readable mail -------------------------------------------------------------------


@abuse_app.command("mailbox")
def mailbox(
    directory: Annotated[
        Path, typer.Argument(help="A Maildir (its new/) or a directory of messages.")
    ],
    limit: Annotated[int, typer.Option(help="At most this many messages per run.")] = 10_000,
    config: ConfigOption = None,
) -> None:
    """Read ARF (RFC 5965) and X-ARF messages onto the stream as reports. Each message read
    moves to cur/ (Maildir) or processed/; one that cannot be read moves to failed/ with a
    .error file beside it, and its problem is printed. Run it from cron or a timer."""
    import asyncio
    import shutil

    from bastion.abuse.arf import ArfError, parse_abuse_mail
    from bastion.abuse.events import report_event
    from bastion.cli.abuse import _publish
    from bastion.store.abuse_sql import now_utc
    from bastion.stream import StreamError

    settings = load_or_exit(config)
    maildir = (directory / "new").is_dir()
    inbox = directory / "new" if maildir else directory
    if not inbox.is_dir():
        _fail(f"{directory} is not a directory")
    done_dir = directory / ("cur" if maildir else "processed")
    failed_dir = directory / "failed"
    files = sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))
    files = files[: max(1, limit)]
    good: list[Path] = []
    events = []
    failed = 0
    now = now_utc()
    for path in files:
        try:
            report = parse_abuse_mail(path.read_bytes()).to_report(now)
        except (ArfError, OSError) as exc:
            failed += 1
            why = str(exc) if isinstance(exc, ArfError) else f"cannot read: {exc.strerror}"
            typer.echo(f"{path}: {why}", err=True)
            failed_dir.mkdir(exist_ok=True)
            shutil.move(path, failed_dir / path.name)
            (failed_dir / f"{path.name}.error").write_text(why + "\n")
            continue
        good.append(path)
        events.append(report_event(report))
    if events:
        try:
            asyncio.run(_publish(settings, events, 1000))
        except StreamError as exc:
            _fail(f"the event stream is unavailable (messages left in place): {exc}")
        done_dir.mkdir(exist_ok=True)
        for path in good:
            shutil.move(path, done_dir / path.name)
    typer.echo(json.dumps({"read": len(files), "published": len(events), "failed": failed}))


@abuse_app.command("sla")
def sla(config: ConfigOption = None) -> None:
    """Escalate cases whose SLA clock ran out (what each serve worker does every
    abuse_sla_check_s): one priority step up, the analyst queue, a new clock."""
    from bastion.store.abuse_orders import escalate_overdue

    with db_errors():
        db = _with_db(config)
        try:
            escalated = escalate_overdue(db, limit=100_000)
        finally:
            db.dispose()
    typer.echo(json.dumps({"escalated": escalated}))


@cases_app.command("recheck")
def cases_recheck(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    close: Annotated[bool, typer.Option(help="Close the case if its URL is gone.")] = False,
    config: ConfigOption = None,
) -> None:
    """Re-check the case's URL through the SSRF-safe fetcher (gone: 404, 410 or no such
    name); with --close, close the case when it is gone."""
    from bastion.service.abuse_orders_api import recheck_url
    from bastion.store.abuse import CaseNotFound, get_case
    from bastion.store.abuse_orders import record_recheck

    settings = load_or_exit(config)
    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                url = str(get_case(session, case_id)["url"])
            outcome, status, detail = recheck_url(settings, url)
            result = record_recheck(db, case_id, outcome=outcome, status=status, detail=detail,
                                    actor="cli", close=close)  # fmt: skip
        except CaseNotFound as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(json.dumps({"case": case_id, "url": url, "detail": detail, **result}))
