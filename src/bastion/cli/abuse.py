"""``bastion abuse ...``: submit reports, work cases, replay load, register zone contacts.

Reports go onto the configured event stream (``abuse_stream_url``, or the embedded log
beside the SQLite database), exactly as the API puts them there; ``bastion serve`` (or
``bastion abuse consume``) turns them into cases. Case commands read and write the
database directly, as trust & safety staff (actor ``cli``), so they show reporters' contact
details: run them only where staff would.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli._db import CliError, db_errors, open_database, require_schema
from bastion.cli.serve import ConfigOption, load_or_exit

if TYPE_CHECKING:
    from bastion.abuse import Event
    from bastion.config import Settings

abuse_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Abuse desk: reports, cases, load replay."
)
cases_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Cases: list, show, act.")
zone_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Zones' abuse contacts.")
abuse_app.add_typer(cases_app, name="cases")
abuse_app.add_typer(zone_app, name="zone")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(message: str) -> None:
    typer.echo(f"bastion: error: {message}", err=True)
    raise typer.Exit(2)


async def _publish(settings: Settings, events: list[Event], batch: int) -> float:
    """Publish ``events`` in batches; returns the seconds it took."""
    from bastion.service.abuse_desk import stream_url_for
    from bastion.stream import open_stream

    url = stream_url_for(settings)
    options: dict[str, object] = {}
    if url.startswith(("nats://", "tls://")):
        options["pack"] = settings.abuse_stream_pack
    stream = await open_stream(url, **options)
    try:
        start = time.perf_counter()
        for i in range(0, len(events), batch):
            await stream.publish_batch(events[i : i + batch])
        return time.perf_counter() - start
    finally:
        await stream.close()


@abuse_app.command("submit")
def submit(
    report_type: Annotated[str, typer.Option("--type", help="phishing, malware, csam, ...")],
    url: Annotated[list[str] | None, typer.Option("--url", help="A URL (repeatable).")] = None,
    description: Annotated[str, typer.Option(help="What is wrong.")] = "",
    name: Annotated[str, typer.Option(help="Reporter's name.")] = "",
    email: Annotated[str, typer.Option(help="Reporter's email.")] = "",
    organization: Annotated[str, typer.Option(help="Reporter's organization.")] = "",
    consent: Annotated[
        bool, typer.Option(help="Share the reporter's contact with the owner and host.")
    ] = False,
    work: Annotated[str, typer.Option(help="Copyright: the work.")] = "",
    signature: Annotated[str, typer.Option(help="Copyright: the signature.")] = "",
    good_faith: Annotated[bool, typer.Option(help="Copyright: good-faith statement.")] = False,
    accurate: Annotated[bool, typer.Option(help="Copyright: accuracy statement.")] = False,
    config: ConfigOption = None,
) -> None:
    """Submit one report (validated like the API's) onto the stream; prints its id."""
    from pydantic import ValidationError

    from bastion.abuse import AbuseError, ReportSubmission, report_event
    from bastion.stream import StreamError

    settings = load_or_exit(config)
    fields: dict[str, Any] = {
        "type": report_type,
        "urls": list(url or []),
        "description": description,
        "reporter": {
            "name": name,
            "email": email,
            "organization": organization,
            "consent": consent,
        },
    }
    if report_type == "copyright":
        fields["copyright"] = {
            "work": work,
            "infringing_urls": list(url or []),
            "good_faith": good_faith,
            "accurate": accurate,
            "signature": signature,
        }
        fields["urls"] = []
    try:
        report = ReportSubmission.model_validate(fields).accept(source="cli")
        asyncio.run(_publish(settings, [report_event(report)], 1))
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    except (AbuseError, StreamError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps({"id": report.id, "type": report.type, "urls": report.urls}))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line


def _events_from_file(path: Path) -> tuple[list[Event], int]:
    """Events from JSON lines: events (``{"id", "kind", "data"}``) or report submissions."""
    from pydantic import ValidationError

    from bastion.abuse import AbuseError, Event, EventFormatError, ReportSubmission, report_event

    events: list[Event] = []
    errors = 0
    for number, line in _lines(path):
        try:
            obj = json.loads(line)
            if isinstance(obj, dict) and "kind" in obj and "data" in obj:
                events.append(Event.from_json(obj))
            else:
                submission = ReportSubmission.model_validate(obj)
                events.append(report_event(submission.accept(source="replay")))
        except (ValueError, ValidationError, AbuseError, EventFormatError) as exc:
            errors += 1
            message = " ".join(str(exc).split())[:300]
            typer.echo(f"bastion: {path}:{number}: skipped: {message}", err=True)
    return events, errors


@abuse_app.command("replay")
def replay(
    file: Annotated[
        Path | None, typer.Argument(help="JSON lines of reports or events ('-': stdin).")
    ] = None,
    synthetic: Annotated[
        int | None, typer.Option("--synthetic", help="Generate this many reports instead.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Events per publish_batch call.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic reports.")] = 7,
    config: ConfigOption = None,
) -> None:
    """Publish reports from FILE, or N synthetic ones, onto the stream (drives load)."""
    from bastion.abuse import report_event
    from bastion.abuse.synthetic import synthetic_reports
    from bastion.stream import StreamError

    if (file is None) == (synthetic is None):
        _fail("give either FILE or --synthetic N")
    if batch < 1 or (synthetic is not None and synthetic < 1):
        _fail("--batch and --synthetic must be positive")
    settings = load_or_exit(config)
    errors = 0
    try:
        if synthetic is not None:
            events = [report_event(r) for r in synthetic_reports(synthetic, seed=seed)]
        else:
            assert file is not None
            events, errors = _events_from_file(file)
        took = asyncio.run(_publish(settings, events, batch))
    except (OSError, StreamError) as exc:
        _fail(str(exc))
    rate = len(events) / took if took > 0 else 0.0
    typer.echo(
        json.dumps(
            {
                "published": len(events),
                "skipped": errors,
                "seconds": round(took, 3),
                "events_per_s": round(rate),
            }
        )
    )
    if errors and not events:
        raise typer.Exit(1)


@abuse_app.command("consume")
def consume(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop once the stream has been idle for 2 s.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Turn reports on the stream into cases (what each ``serve`` worker does)."""
    from datetime import timedelta

    from bastion.service.abuse_desk import stream_url_for
    from bastion.service.abuse_worker import AbuseWorker, clocks_of
    from bastion.stream import open_stream

    settings = load_or_exit(config)

    async def run() -> dict[str, int]:
        stream = await open_stream(stream_url_for(settings))
        with db_errors():
            db = open_database(config, create=True)
            require_schema(db, create=True)
        worker = AbuseWorker(
            db,
            stream,
            durable=settings.abuse_consumer,
            window=timedelta(seconds=settings.abuse_dedup_window_s),
            zone_refresh_s=settings.abuse_zone_refresh_s,
            clocks=clocks_of(settings),
        )
        try:
            idle_since = time.monotonic()
            while True:
                if await worker.run_once(timeout_s=0.5) is not None:
                    idle_since = time.monotonic()
                elif until_idle and time.monotonic() - idle_since > 2.0:
                    break
        except KeyboardInterrupt:  # pragma: no cover - interactive
            pass
        finally:
            await stream.close()
            db.dispose()
        s = worker.stats
        return {
            "events": s.events,
            "new_reports": s.new_reports,
            "duplicates": s.duplicates,
            "skipped": s.skipped,
            "new_cases": s.new_cases,
        }

    typer.echo(json.dumps(asyncio.run(run())))


# -- cases -------------------------------------------------------------------------------


def _with_db(config: Path | None) -> Any:
    db = open_database(config)
    require_schema(db)
    return db


@cases_app.command("list")
def cases_list(
    state: Annotated[str | None, typer.Option(help="new, triaged, actioned, ...")] = None,
    report_type: Annotated[str | None, typer.Option("--type", help="phishing, ...")] = None,
    zone: Annotated[str | None, typer.Option(help="A zone, or 'unattributed'.")] = None,
    queue: Annotated[str | None, typer.Option(help="analyst, triage, review, ...")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Cases, most urgent first."""
    from bastion.store.abuse import list_cases

    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                cases = list_cases(
                    session,
                    state=state,
                    type=report_type,
                    zone=zone,
                    queue=queue,
                    limit=max(1, min(limit, 10_000)),
                )
        finally:
            db.dispose()
    if as_json:
        typer.echo(json.dumps(cases))
        return
    for c in cases:
        late = " SLA!" if c["sla_breached"] else ""
        typer.echo(
            f"{c['id']:>6}  {c['priority']}  {c['state']:<8}  {c['type']:<17}  "
            f"{c['report_count']:>5} rep  {c['zone']:<20}  {c['url']}{late}"
        )
    if not cases:
        typer.echo("no cases")


@cases_app.command("show")
def cases_show(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    config: ConfigOption = None,
) -> None:
    """One case with its reports (reporters included: staff view) and actions, as JSON."""
    from bastion.store.abuse import CaseNotFound, get_case

    with db_errors():
        db = _with_db(config)
        try:
            with db.session() as session:
                case = get_case(session, case_id)
        except CaseNotFound as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(json.dumps(case, indent=2))


@cases_app.command("act")
def cases_act(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    action: Annotated[
        str,
        typer.Argument(
            help="triage, assign, notify, interstitial, block, geo_block, escalate, reject, close"
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    assignee: Annotated[str | None, typer.Option(help="Who works the case.")] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="geo_block: a country (repeatable).")
    ] = None,
    override: Annotated[
        bool,
        typer.Option(
            "--override",
            help="close: without a re-check that found the URL gone (needs --reason; audited).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Act on a case (audited, actor 'cli'). A close needs a re-check that found the URL
    gone ('bastion abuse cases recheck ID --close'), or --override with a reason."""
    from bastion.abuse import ActionRequest, CaseAction, InvalidActionError
    from bastion.store.abuse import CaseNotFound, act

    try:
        kind = CaseAction(action)
    except ValueError:
        _fail(f"unknown action {action!r}: one of {', '.join(a.value for a in CaseAction)}")
    request = ActionRequest(kind, reason, assignee, tuple(country or ()), override)
    with db_errors():
        db = _with_db(config)
        try:
            outcome = act(db, case_id, request, actor="cli")
        except (CaseNotFound, InvalidActionError) as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(
        json.dumps({"case": outcome.case, "action": outcome.action, "notices": outcome.notices})
    )


@zone_app.command("set")
def zone_set(
    zone: Annotated[str, typer.Argument(help="The zone (shop.example).")],
    owner_contact: Annotated[str | None, typer.Option(help="Owner's abuse contact.")] = None,
    host: Annotated[str | None, typer.Option(help="Hosting provider's name.")] = None,
    host_contact: Annotated[str | None, typer.Option(help="Host's abuse contact.")] = None,
    config: ConfigOption = None,
) -> None:
    """Register a zone (if new) with the contacts its notices go to (audited)."""
    from bastion.auth import InvalidZoneError
    from bastion.store.abuse import set_zone_contacts

    with db_errors():
        db = open_database(config, create=True)
        try:
            require_schema(db, create=True)
            with db.session(write=True) as session:
                info = set_zone_contacts(
                    session,
                    zone,
                    owner_contact=owner_contact,
                    host=host,
                    host_contact=host_contact,
                    actor="cli",
                )
        except InvalidZoneError as exc:
            raise CliError(str(exc)) from None
        finally:
            db.dispose()
    typer.echo(
        json.dumps(
            {
                "zone": info.name,
                "owner_contact": info.owner_contact,
                "host": info.host,
                "host_contact": info.host_contact,
            }
        )
    )


# Legal orders, bulk actions, transparency (a module of their own, registered here).
from bastion.cli import abuse_orders as _abuse_orders  # noqa: E402, F401
