"""``bastion serve``: the HTTP service under uvicorn with several worker processes."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from bastion.config import CONFIG_ENV, ENV_PREFIX, ConfigError, Settings, load_settings
from bastion.service.metrics import MULTIPROC_ENV

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML settings file.", show_default=False)
]


def load_or_exit(config: Path | None, **overrides: object) -> Settings:
    """Settings, or a clear message and exit status 2 when they are invalid."""
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        typer.echo(f"bastion: {exc}", err=True)
        raise typer.Exit(2) from None


def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run the HTTP API (and gRPC when grpc_port is set) until SIGTERM or Ctrl-C.

    On SIGTERM the server stops accepting connections and lets in-flight requests finish
    (up to graceful_timeout_s); a worker that dies is replaced.
    """
    import uvicorn

    from bastion.service.protocol import HeadTimeoutProtocol
    from bastion.store.db import Database

    settings = load_or_exit(config, host=host, port=port, workers=workers)
    # Workers rebuild the settings from the environment: hand them the same inputs.
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"{ENV_PREFIX}{name}"] = str(value)
    # Migrate once here, not racing in every worker.
    Database(settings.database_url).upgrade()

    metrics_dir = Path(tempfile.mkdtemp(prefix="bastion-metrics-"))
    os.environ[MULTIPROC_ENV] = str(metrics_dir)
    run_dir = Path(tempfile.mkdtemp(prefix="bastion-run-"))  # 0700: the writer's socket
    writer_process = None
    grpc_process = None
    try:
        writer_process = _start_log_writer(settings, run_dir)
        grpc_process = _start_grpc(settings)
        uvicorn.run(
            "bastion.service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            http=HeadTimeoutProtocol,
            loop="uvloop",
            access_log=False,
            log_level=settings.log_level,
            timeout_keep_alive=settings.keep_alive_s,
            timeout_graceful_shutdown=int(settings.graceful_timeout_s),
            backlog=4096,
            server_header=False,
        )
    finally:
        if grpc_process is not None:
            grpc_process.terminate()
            grpc_process.join(settings.graceful_timeout_s)
        if writer_process is not None:
            # After the workers (and gRPC) have shipped their last logged requests.
            if writer_process.stdin is not None:
                writer_process.stdin.close()
            try:
                writer_process.wait(settings.graceful_timeout_s + 10)
            except subprocess.TimeoutExpired:
                writer_process.kill()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def _start_log_writer(settings: Settings, run_dir: Path) -> subprocess.Popen[bytes] | None:
    """The request-log writer process (``python -m bastion.service.analytics_writer``), when
    the log goes to a store every process can open (not an in-memory one); workers learn
    its socket from the environment."""
    from bastion.service.analytics_api import store_url
    from bastion.service.analytics_writer import SOCKET_NAME

    if not settings.analytics_enabled or store_url(settings).endswith(":memory:"):
        return None
    socket_path = run_dir / SOCKET_NAME
    command = [sys.executable, "-m", "bastion.service.analytics_writer", str(socket_path)]
    # Stopped by closing its stdin (see run_log_writer): a signal to the process group must
    # not stop it before the workers have shipped their last requests.
    process = subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603 - our module
    deadline = time.monotonic() + 60
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            typer.echo("bastion: the analytics writer process did not start", err=True)
            raise typer.Exit(1)
        time.sleep(0.05)
    os.environ[f"{ENV_PREFIX}ANALYTICS_WRITER_SOCKET"] = str(socket_path)
    return process


def _start_grpc(settings: Settings) -> multiprocessing.process.BaseProcess | None:
    if settings.grpc_port is None:
        return None
    from bastion.service.grpc.auth import token_authorizer
    from bastion.service.grpc.server import serve as serve_grpc

    process = multiprocessing.get_context("spawn").Process(
        target=serve_grpc,
        args=(f"{settings.host}:{settings.grpc_port}",),
        kwargs={
            "workers": settings.grpc_workers,
            "model_path": settings.model_path,
            "authorize_factory": token_authorizer,
            "grace_s": settings.graceful_timeout_s,
        },
        name="bastion-grpc",
    )
    process.start()
    return process
