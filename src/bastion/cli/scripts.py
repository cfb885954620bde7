"""``bastion scripts ...``: scan, train, evaluate the malicious-JavaScript classifier."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

scripts_app = typer.Typer(
    no_args_is_help=True,
    help="Malicious-JavaScript classifier (magecart, cryptomining, malware): scan, train, eval.",
)

#: File names scanned when a directory is given.
SCAN_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".html", ".htm", ".xhtml", ".php", ".txt")


def _files(target: Path, all_files: bool) -> Iterator[Path]:
    if not target.is_dir():
        yield target
        return
    for root, dirs, names in os.walk(target):
        dirs.sort()
        for name in sorted(names):
            p = Path(root) / name
            if all_files or p.suffix.lower() in SCAN_SUFFIXES:
                yield p


def _shared_js(shared: Path | None) -> Path:
    from bastion.cli._common import default_shared_root

    if shared is not None:
        d = shared / "datasets" / "js" if (shared / "datasets" / "js").is_dir() else shared
    else:
        root = default_shared_root()
        d = root / "datasets" / "js" if root is not None else Path("../shared/datasets/js")
    if not (d / "MANIFEST.jsonl").is_file():
        raise typer.BadParameter(f"no MANIFEST.jsonl in {d}", param_hint="--shared")
    return d


@scripts_app.command("scan")
def scripts_scan(
    target: Annotated[Path, typer.Argument(help="A script or HTML file, or a directory")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per file")] = False,
    all_files: Annotated[
        bool,
        typer.Option("--all", help="In a directory, scan every file, not only script/HTML names"),
    ] = False,
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped model)")] = None,
) -> None:
    """Score scripts: js_integrity, magecart, cryptomining, malware (1-99, low = malicious)."""
    from bastion.cli._common import fail_cleanly
    from bastion.scripts import ModelError, SourceError, load_scorer

    if not target.exists():
        typer.echo(f"bastion: error: {target}: no such file or directory", err=True)
        raise typer.Exit(2)
    with fail_cleanly():
        try:
            scorer = load_scorer(model)
        except ModelError as exc:
            typer.echo(f"bastion: error: {exc}", err=True)
            raise typer.Exit(2) from None
    out = sys.stdout
    for path in _files(target, all_files or not target.is_dir()):
        name = str(path)
        try:
            r = scorer.scan_path(path)
        except (OSError, SourceError) as exc:
            msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if json_out:
                out.write(json.dumps({"path": name, "error": msg}) + "\n")
            else:
                out.write(f"{name}: error: {msg}\n")
            continue
        if json_out:
            out.write(json.dumps({"path": name, **r.to_json()}) + "\n")
        else:
            s = r.scores()
            out.write(
                f"{name}: {r.cls} (js_integrity {s['js_integrity']}, magecart {s['magecart']}, "
                f"cryptomining {s['cryptomining']}, malware {s['malware']})\n"
            )
    out.flush()


@scripts_app.command("train")
def scripts_train(
    out: Annotated[Path, typer.Option(help="Where to write the model")] = Path(
        "src/bastion/scripts/models/scripts-model.npz"
    ),
    shared: Annotated[
        Path | None,
        typer.Option(help="shared/ (or shared/datasets/js) directory (default: ../shared)"),
    ] = None,
    report: Annotated[
        Path, typer.Option(help="Where to write the evaluation report (JSON)")
    ] = Path("reports/scripts-train.json"),
    folds: Annotated[int | None, typer.Option(help="Cross-validation folds")] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs")] = None,
    no_js_tools: Annotated[
        bool, typer.Option("--no-js-tools", help="Skip javascript-obfuscator/terser variants")
    ] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Cache directory for the featurized corpus")
    ] = None,
    fetch_benign: Annotated[
        bool,
        typer.Option(
            "--fetch-benign", help="First npm-pack the benign packages (no install scripts)"
        ),
    ] = False,
) -> None:
    """Rebuild the model: corpus, group-held-out cross-validation, calibration, final fit."""
    from dataclasses import replace

    from bastion.scripts.train import TrainConfig, train

    shared_js = _shared_js(shared)
    if fetch_benign:
        from bastion.scripts.datagen.npmfetch import fetch

        try:
            fetch(shared_js, log=lambda m: typer.echo(m, err=True))
        except RuntimeError as exc:
            typer.echo(f"bastion: error: {exc}", err=True)
            raise typer.Exit(2) from None

    config = TrainConfig()
    if folds is not None:
        config = replace(config, folds=folds)
    if epochs is not None:
        config = replace(config, epochs=epochs)
    if no_js_tools:
        config = replace(config, corpus=replace(config.corpus, use_js_tools=False))
    try:
        train(
            shared_js,
            config,
            out,
            log=lambda m: typer.echo(m, err=True),
            report=report,
            cache=cache,
        )
    except RuntimeError as exc:
        typer.echo(f"bastion: error: {exc}", err=True)
        raise typer.Exit(2) from None


@scripts_app.command("eval")
def scripts_eval(
    directory: Annotated[
        Path,
        typer.Argument(help="Labeled directory: MANIFEST.jsonl, or one sub-directory per label"),
    ],
    out: Annotated[Path | None, typer.Option(help="Write the report here (JSON)")] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: shipped model)")] = None,
) -> None:
    """Recall per class and benign false positives with 95% cluster-bootstrap intervals."""
    from bastion.cli._common import fail_cleanly
    from bastion.scripts import ModelError, load_scorer
    from bastion.scripts.evaluate import evaluate_dir

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a directory", param_hint="DIRECTORY")
    with fail_cleanly():
        try:
            scorer = load_scorer(model)
        except ModelError as exc:
            typer.echo(f"bastion: error: {exc}", err=True)
            raise typer.Exit(2) from None
        rep = evaluate_dir(scorer, directory)
    typer.echo(rep["summary"])
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rep, indent=2, sort_keys=True))
        typer.echo(f"report: {out}")
