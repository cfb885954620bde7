"""HTTP endpoints of the model registry (JSON shapes in ``docs/modelops.md``).

Reading (``analytics.read``): ``GET /v1/models``, ``/v1/models/{version}``,
``/v1/models/{version}/history``, ``/v1/models/{version}/shadow-report``,
``/v1/models/rollout``, ``/v1/models/live``, ``/v1/models/drift``, ``/v1/models/feedback``.
Managing (``models.manage``, admin only): ``POST /v1/models`` (register a model file's
bytes), ``POST /v1/models/{version}/shadow|canary|promote|retire``,
``POST /v1/models/rollback``, ``POST /v1/models/shadow/stop``. Every change is audited
and reaches every worker within ``model_poll_s`` (no restart).
Feedback (``feedback.write``): ``POST /v1/models/feedback``.

The router's lifespan runs the worker's :class:`ModelRuntime` (registry poll, hot swap,
shadow, histograms) and :class:`DriftWatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.auth import Permission, Principal
from bastion.modelops.artifacts import MAX_ARTIFACT_BYTES, ArtifactError
from bastion.modelops.drift import DriftConfig
from bastion.modelops.feedback import FeedbackError, check_feedback
from bastion.modelops.rollout import MODEL_KINDS, RolloutError
from bastion.service.models_runtime import DriftWatch, ModelRuntime, WatchLimits
from bastion.service.responses import json_response
from bastion.service.security import require
from bastion.store.modelops import ModelRegistry, RegistryError

READ = Permission("analytics.read")
MANAGE = Permission("models.manage")
FEEDBACK = Permission("feedback.write")

T = TypeVar("T")
VersionPath = Annotated[str, Path(pattern=r"^(waf|js)-[0-9a-f]{12}$", max_length=64)]
KindQuery = Annotated[str, Query(pattern="^(waf|scripts)$")]
Reader = Annotated[Principal | None, Depends(require(READ))]
Manager = Annotated[Principal | None, Depends(require(MANAGE))]
FeedbackWriter = Annotated[Principal | None, Depends(require(FEEDBACK))]


def watch_limits(settings: Any) -> WatchLimits:
    """The drift monitor's limits from the settings."""
    return WatchLimits(
        drift=DriftConfig(
            window_minutes=settings.model_drift_window_minutes,
            min_samples=settings.model_drift_min_samples,
            ks_floor=settings.model_drift_ks_floor,
            psi_floor=settings.model_drift_psi_floor,
            daily_false_alarm=settings.model_drift_daily_false_alarm,
        ),
        reference_minutes=settings.model_drift_reference_minutes,
        canary_max_block_rate_increase=settings.model_canary_max_block_rate_increase,
        auto_rollback=settings.model_canary_auto_rollback,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the worker's model runtime (and drift watch) for its lifetime."""
    state = app.state.bastion
    settings = state.settings
    runtime = ModelRuntime(
        state.database, state.scoring, shadow_sample=settings.model_shadow_sample
    )
    app.state.model_runtime = runtime
    await asyncio.to_thread(runtime.poll_once)
    tasks = [
        asyncio.create_task(runtime.run_forever(settings.model_poll_s, settings.model_flush_s))
    ]
    if settings.model_drift:
        watch = DriftWatch(state.database, watch_limits(settings))
        app.state.drift_watch = watch
        tasks.append(asyncio.create_task(watch.run_forever()))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter(prefix="/v1/models", tags=["models"], lifespan=lifespan)


def _registry(request: Request) -> ModelRegistry:
    return ModelRegistry(request.app.state.bastion.database)


def _actor(principal: Principal | None) -> str:
    return principal.token_id if principal is not None else "anonymous"


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a registry call on a thread; its expected errors become 400 / 404 / 409."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except RegistryError as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None
    except RolloutError as exc:
        raise HTTPException(409, str(exc)) from None
    except (ArtifactError, FeedbackError) as exc:
        raise HTTPException(400, str(exc)) from None


class Change(BaseModel):
    """Optional body of a rollout call."""

    reason: str = Field(default="", max_length=500)


class CanaryChange(Change):
    percent: float = Field(gt=0, le=100)
    key: str = Field(default="zone", pattern="^(zone|client)$")


class KindChange(Change):
    kind: str = Field(default="waf", pattern="^(waf|scripts)$")


class FeedbackBody(BaseModel):
    """An analyst's mark: the request (the scoring API's object form) and what was wrong."""

    label: str = Field(pattern="^(false_positive|false_negative)$")
    request: dict[str, Any]
    zone: str = Field(default="", max_length=253)
    vector: str | None = Field(default=None, pattern="^(sqli|xss|rce)$")
    model_version: str | None = Field(default=None, max_length=64)
    scores: dict[str, Any] | None = None
    note: str = Field(default="", max_length=2000)


def _state_json(state: Any) -> dict[str, Any]:
    out: dict[str, Any] = state.to_json()
    return out


@router.get("", summary="Registered model versions, newest first")
async def list_models(
    request: Request,
    _: Reader,
    kind: Annotated[str | None, Query(pattern="^(waf|scripts)$")] = None,
    status: Annotated[
        str | None, Query(pattern="^(candidate|shadow|canary|active|retired)$")
    ] = None,
) -> Response:
    models = await _run(_registry(request).list_versions, kind, status)
    return json_response({"models": models})


@router.post("", status_code=201, summary="Register a model file (body: the .npz bytes)")
async def register_model(
    request: Request,
    principal: Manager,
    source: Annotated[str, Query(max_length=200)] = "api",
) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ARTIFACT_BYTES:
        raise HTTPException(413, f"a model file is at most {MAX_ARTIFACT_BYTES} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_ARTIFACT_BYTES:
            raise HTTPException(413, f"a model file is at most {MAX_ARTIFACT_BYTES} bytes")
    info, new = await _run(
        _registry(request).register, bytes(data), source=source, actor=_actor(principal)
    )
    return json_response({**info, "created": new}, 201 if new else 200)


@router.get("/rollout", summary="The rollout state of one model kind")
async def rollout(request: Request, _: Reader, kind: KindQuery = "waf") -> Response:
    state = await _run(_registry(request).rollout, kind)
    runtime: ModelRuntime | None = getattr(request.app.state, "model_runtime", None)
    body = _state_json(state)
    body["worker_revision"] = runtime.revision if runtime is not None else None
    body["worker"] = os.getpid()
    return json_response(body)


@router.get("/live", summary="Which version acted at a time (for a zone)")
async def live(
    request: Request,
    _: Reader,
    at: datetime,
    kind: KindQuery = "waf",
    zone: Annotated[str | None, Query(max_length=253)] = None,
) -> Response:
    when = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return json_response(await _run(_registry(request).live_at, kind, when, zone))


@router.get("/drift", summary="The last drift reading of this worker's monitor")
async def drift(request: Request, _: Reader) -> Response:
    watch: DriftWatch | None = getattr(request.app.state, "drift_watch", None)
    reading = watch.detector.last if watch is not None else None
    if reading is None:
        return json_response({"minute": None, "streams": []})
    streams = []
    for s, name in enumerate(reading.streams):
        version, zone = name.split("|", 1)
        vectors = {
            vec: {
                "ks": round(float(reading.ks[s, v]), 5),
                "psi": round(float(reading.psi[s, v]), 5),
                "ks_threshold": round(float(reading.ks_threshold[s, v]), 5),
                "psi_threshold": round(float(reading.psi_threshold[s, v]), 5),
                "samples": int(reading.samples[s, v]),
                "alarm": bool(reading.alarm[s, v]),
            }
            for v, vec in enumerate(watch.detector.vectors)  # type: ignore[union-attr]
        }
        streams.append({"model_version": version, "zone": zone, "vectors": vectors})
    minute = datetime.fromtimestamp(reading.minute * 60, UTC).isoformat()
    return json_response({"minute": minute, "streams": streams})


@router.post("/rollback", summary="Stop the canary, or re-activate the previous model")
async def rollback(
    request: Request, principal: Manager, body: Annotated[KindChange | None, Body()] = None
) -> Response:
    state = await _run(
        _registry(request).transition,
        "rollback",
        None,
        kind=body.kind if body else "waf",
        actor=_actor(principal),
        reason=body.reason if body else "",
    )
    return json_response(_state_json(state))


@router.post("/shadow/stop", summary="End the shadow run")
async def stop_shadow(
    request: Request, principal: Manager, body: Annotated[KindChange | None, Body()] = None
) -> Response:
    state = await _run(
        _registry(request).transition,
        "stop-shadow",
        None,
        kind=body.kind if body else "waf",
        actor=_actor(principal),
        reason=body.reason if body else "",
    )
    return json_response(_state_json(state))


@router.post("/feedback", status_code=201, summary="Mark a request as a false positive/negative")
async def add_feedback(
    request: Request,
    principal: FeedbackWriter,
    body: FeedbackBody,
) -> Response:
    clean = await _run(check_feedback, body.label, body.request, body.vector)
    zone = body.zone or clean.zone
    new_id = await _run(
        _registry(request).add_feedback,
        zone=zone,
        label=body.label,
        request=clean.request,
        actor=_actor(principal),
        vector=body.vector,
        model_version=body.model_version,
        scores=body.scores,
        note=body.note,
    )
    return json_response({"id": new_id, "zone": zone, "label": body.label}, 201)


@router.get("/feedback", summary="Analysts' marks, newest first")
async def list_feedback(
    request: Request,
    _: Reader,
    zone: Annotated[str | None, Query(max_length=253)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    rows = await _run(_registry(request).feedback, zone=zone, limit=limit)
    return json_response({"feedback": rows})


@router.get("/{version}", summary="One version with its metrics and model card")
async def get_model(request: Request, version: VersionPath, _: Reader) -> Response:
    return json_response(await _run(_registry(request).get, version))


@router.get("/{version}/history", summary="Status changes of one version, newest first")
async def history(request: Request, version: VersionPath, _: Reader) -> Response:
    await _run(_registry(request).get, version)
    return json_response({"events": await _run(_registry(request).history, version=version)})


@router.get("/{version}/shadow-report", summary="Disagreement with the active model per vector")
async def shadow_report(request: Request, version: VersionPath, _: Reader) -> Response:
    await _run(_registry(request).get, version)
    return json_response(await _run(_registry(request).shadow_report, version))


async def _transition(
    request: Request,
    operation: str,
    version: str,
    principal: Principal | None,
    reason: str,
    **kwargs: Any,
) -> Response:
    state = await _run(
        _registry(request).transition,
        operation,
        version,
        actor=_actor(principal),
        reason=reason,
        **kwargs,
    )
    return json_response(_state_json(state))


@router.post("/{version}/shadow", summary="Score live traffic with this version, log only")
async def start_shadow(
    request: Request,
    principal: Manager,
    version: VersionPath,
    body: Annotated[Change | None, Body()] = None,
) -> Response:
    return await _transition(request, "shadow", version, principal, body.reason if body else "")


@router.post("/{version}/canary", summary="Let this version act for a share of traffic")
async def start_canary(
    request: Request,
    principal: Manager,
    version: VersionPath,
    body: CanaryChange,
) -> Response:
    return await _transition(
        request, "canary", version, principal, body.reason, percent=body.percent, key=body.key
    )


@router.post("/{version}/promote", summary="Make this version the active model")
async def promote(
    request: Request,
    principal: Manager,
    version: VersionPath,
    body: Annotated[Change | None, Body()] = None,
) -> Response:
    return await _transition(request, "promote", version, principal, body.reason if body else "")


@router.post("/{version}/retire", summary="Retire a candidate, shadow or canary")
async def retire(
    request: Request,
    principal: Manager,
    version: VersionPath,
    body: Annotated[Change | None, Body()] = None,
) -> Response:
    return await _transition(request, "retire", version, principal, body.reason if body else "")


__all__ = ["MODEL_KINDS", "router"]
