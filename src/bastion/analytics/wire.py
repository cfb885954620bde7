"""Judged batches as bytes: how serving workers hand logged requests to the writer process.

A worker only copies each sampled request's fields into plain tuples and serializes them
with :mod:`marshal` (C speed, no code execution on load, unlike pickle); the writer
process rebuilds :class:`~bastion.analytics.record.JudgedBatch` objects and does the
expensive part (row building, explanations, inserts, rollups) off the serving path.

A frame is ``MAGIC`` + a 4-byte big-endian length + the marshalled payload. Bodies are cut
to the capture limit before they are sent; their real size travels with them.
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bastion.analytics.record import CaptureOptions, Explainer, JudgedBatch, explanation_json
from bastion.rules import Decision
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult

MAGIC = b"BLW1"
HEADER = struct.Struct(">4sI")
#: Largest frame accepted (a worker sends one per ship interval).
MAX_FRAME_BYTES = 256 << 20
_VERSION = 1


class WireError(ValueError):
    """A frame that is not a request-log frame of this version."""


@dataclass(frozen=True, slots=True)
class ShippedVerdict:
    """A verdict rebuilt from the wire (scores and decision; explanations travel as JSON)."""

    result: WafResult
    decision: Decision


def pack(
    items: Sequence[tuple[JudgedBatch, Sequence[bool] | None]], options: CaptureOptions
) -> bytes:
    """One frame holding the (kept) requests of the judged batches."""
    cap = options.max_body_bytes if options.keep_bodies else 0
    batches: list[Any] = []
    for batch, keep in items:
        rows: list[tuple[Any, ...]] = []
        clients = batch.clients
        kept_clients: list[str | None] | None = None if clients is None else []
        for i, (request, verdict) in enumerate(zip(batch.requests, batch.verdicts, strict=True)):
            if keep is not None and not keep[i]:
                continue
            result, decision = verdict.result, verdict.decision
            body = request.body
            rows.append(
                (
                    request.method,
                    request.uri,
                    request.headers,
                    body[:cap] if cap else b"",
                    len(body),
                    result.score,
                    result.sqli,
                    result.xss,
                    result.rce,
                    decision.action,
                    decision.rule_id,
                    explanation_json(result) if result.explanations is not None else "",
                )
            )
            if kept_clients is not None and clients is not None:
                kept_clients.append(clients[i])
        if rows:
            batches.append((batch.at, batch.source, batch.model_version, kept_clients, rows))
    payload = marshal.dumps((_VERSION, batches))
    return HEADER.pack(MAGIC, len(payload)) + payload


def frame_length(header: bytes) -> int:
    """The payload length a frame header announces; :class:`WireError` when it is not one."""
    try:
        magic, length = HEADER.unpack(header)
    except struct.error as exc:
        raise WireError(f"truncated frame header ({len(header)} bytes)") from exc
    if magic != MAGIC:
        raise WireError(f"not a request-log frame (starts {magic!r})")
    if length > MAX_FRAME_BYTES:
        raise WireError(f"frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
    return int(length)


def unpack(
    payload: bytes, scorer_for: Callable[[str], Explainer | None] | None = None
) -> list[JudgedBatch]:
    """The judged batches of a frame's payload; :class:`WireError` when malformed.

    ``scorer_for`` maps a model version to a scorer of that version, if the reader has
    one, so that attack-class requests can be explained as before."""
    try:
        # Frames come only from this server's own workers over a socket that only the
        # server's user can open (0600 in a 0700 directory); marshal runs no code.
        version, batches = marshal.loads(payload)  # noqa: S302
        if version != _VERSION:
            raise WireError(f"request-log frame version {version!r}, expected {_VERSION}")
        out = []
        for at, source, model_version, clients, rows in batches:
            requests = [HttpRequest(r[0], r[1], tuple(map(tuple, r[2])), r[3]) for r in rows]
            verdicts = [
                ShippedVerdict(WafResult(r[5], r[6], r[7], r[8]), Decision(r[9], r[10]))
                for r in rows
            ]
            out.append(
                JudgedBatch(
                    float(at),
                    str(source),
                    requests,
                    verdicts,
                    str(model_version),
                    clients,
                    scorer=scorer_for(str(model_version)) if scorer_for else None,
                    body_sizes=[int(r[4]) for r in rows],
                    explanations=[str(r[11]) for r in rows],
                )
            )
        return out
    except WireError:
        raise
    except (ValueError, TypeError, EOFError, IndexError) as exc:
        raise WireError(f"malformed request-log frame: {exc}") from exc
