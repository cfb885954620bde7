"""``bastion waf ...``: score, train, evaluate."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.cli._common import default_shared_root, fail_cleanly

waf_app = typer.Typer(no_args_is_help=True, help="WAF attack score: score, train, evaluate.")

#: Lines longer than this are answered with an error instead of being parsed.
MAX_LINE_BYTES = 32 * 1024 * 1024
BATCH = 256


def _read_batches(fd: int) -> Iterator[list[bytes]]:
    """Lines in batches of at most ``BATCH``, as they arrive.

    Reads with ``os.read``, which returns whatever is available: piped bulk input gives
    full batches, while a line typed or sent alone is answered at once. A line longer
    than ``MAX_LINE_BYTES`` becomes the marker ``OVERSIZED`` and the rest of it is skipped.
    """
    parts: list[bytes] = []  # pieces of the current, unfinished line
    size = 0
    skipping = False
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        if b"\n" not in chunk:
            if not skipping:
                parts.append(chunk)
                size += len(chunk)
                if size > MAX_LINE_BYTES:
                    parts, size, skipping = [], 0, True
                    yield [OVERSIZED]
            continue
        lines = chunk.split(b"\n")
        if skipping:
            lines[0] = b""
            first = None
            skipping = False
        else:
            first = b"".join([*parts, lines[0]])
        rest = lines.pop()
        parts, size = [rest], len(rest)
        out = lines[1:] if first is None else [first, *lines[1:]]
        out = [OVERSIZED if len(line) > MAX_LINE_BYTES else line for line in out]
        for i in range(0, len(out), BATCH):
            yield out[i : i + BATCH]
    if size and not skipping:
        yield [b"".join(parts)]


OVERSIZED = b"\x00oversized"


@waf_app.command("score")
def waf_score(
    source: Annotated[
        str, typer.Argument(help="JSON-lines file of requests, or - for stdin")
    ] = "-",
    explain: Annotated[
        bool, typer.Option(help="Add the part and text that drove each head")
    ] = False,
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped model)")] = None,
) -> None:
    """Score requests: each JSON line gets a "waf" key (or an "error" key) on the output."""
    from bastion.waf import HttpRequest, RequestFormatError, load_scorer

    with fail_cleanly():
        scorer = load_scorer(model)
        fd = sys.stdin.fileno() if source == "-" else os.open(source, os.O_RDONLY)
    out = sys.stdout
    try:
        for lines in _read_batches(fd):
            objs: list[Any] = []
            requests: list[HttpRequest] = []
            slots: list[int] = []
            for n, raw in enumerate(lines):
                obj: Any
                if raw is OVERSIZED:
                    obj = {"error": f"line longer than {MAX_LINE_BYTES} bytes"}
                elif not raw.strip():
                    obj = {"error": "empty line"}
                else:
                    try:
                        obj = json.loads(raw)
                        requests.append(HttpRequest.from_json(obj))
                        slots.append(n)
                    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                        obj = {"error": f"invalid JSON: {exc}"}
                    except RequestFormatError as exc:
                        obj = (
                            {**obj, "error": str(exc)}
                            if isinstance(obj, dict)
                            else {"error": str(exc)}
                        )
                objs.append(obj)
            for n, result in zip(slots, scorer.score_batch(requests, explain=explain), strict=True):
                objs[n]["waf"] = result.to_json()
            out.write("".join(json.dumps(o) + "\n" for o in objs))
            out.flush()
    finally:
        if source != "-":
            os.close(fd)


@waf_app.command("train")
def waf_train(
    out: Annotated[Path, typer.Option(help="Where to write the model")] = Path(
        "src/bastion/waf/models/waf-model.npz"
    ),
    shared: Annotated[
        Path | None, typer.Option(help="shared/ directory with datasets/waf (default: ../shared)")
    ] = None,
    scale: Annotated[float, typer.Option(help="Corpus size multiplier")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the shipped one)")] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs")] = None,
    with_feedback: Annotated[
        bool,
        typer.Option(
            "--with-feedback",
            help="Add analysts' false-positive/negative marks from the configured database",
        ),
    ] = False,
    config_file: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file (the database)")
    ] = None,
) -> None:
    """Rebuild the WAF model from the generators and the public corpora."""
    from dataclasses import replace

    from bastion.waf.train import TrainConfig, train

    root = shared or default_shared_root()
    if root is None:
        typer.echo(
            "warning: no shared/datasets/waf found; training on generated data only", err=True
        )
    config = TrainConfig(scale=scale)
    if seed is not None:
        config = replace(config, seed=seed)
    if epochs is not None:
        config = replace(config, epochs=epochs)
    extra = _feedback_inputs(config_file) if with_feedback else []
    train(root, config, out, log=lambda m: typer.echo(m, err=True), extra=extra)


def _feedback_inputs(config_file: Path | None) -> list[Any]:
    """The labeled inputs of every stored feedback mark."""
    from bastion.cli._db import db_errors, open_database, require_schema
    from bastion.modelops.feedback import training_inputs
    from bastion.store.modelops import ModelRegistry

    with db_errors():
        db = open_database(config_file)
        try:
            require_schema(db)
            marks = ModelRegistry(db).feedback(limit=100_000)
        finally:
            db.dispose()
    typer.echo(f"feedback: {len(marks)} marks", err=True)
    return training_inputs(marks)


@waf_app.command("eval")
def waf_eval(
    directory: Annotated[Path, typer.Argument(help="Directory of labeled *.jsonl sets")],
    out: Annotated[Path, typer.Option(help="Report directory")] = Path("reports/waf-eval"),
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped model)")] = None,
) -> None:
    """Evaluate on labeled sets: detection, false positives, confusion, histograms, ROC."""
    from bastion.waf import load_scorer
    from bastion.waf.evaluate import evaluate_dir, format_summary, write_report

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a directory", param_hint="DIRECTORY")
    with fail_cleanly():
        result = evaluate_dir(load_scorer(model), directory)
    report = write_report(result, out)
    typer.echo(format_summary(result))
    typer.echo(f"report: {report}")


@waf_app.command("gen-eval")
def waf_gen_eval(
    directory: Annotated[Path, typer.Argument(help="Where to write the labeled *.jsonl sets")],
    seed: Annotated[int, typer.Option(help="Seed (differs from the training seed)")] = 7,
    n: Annotated[int, typer.Option(help="Requests per set")] = 500,
) -> None:
    """Write generated labeled evaluation sets (held out from training by seed)."""
    from bastion.waf.datagen import build_eval_sets

    directory.mkdir(parents=True, exist_ok=True)
    for name, items in build_eval_sets(seed, n).items():
        with open(directory / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for request, label in items:
                f.write(json.dumps({**request.to_json(), "label": label}) + "\n")
        typer.echo(f"{name}: {len(items)}")
