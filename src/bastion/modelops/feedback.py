"""Analysts' feedback: false-positive / false-negative marks on scored requests.

A mark is validated here (:func:`check_feedback`: the request must be a request object
the scoring API accepts; a false negative names its vector), stored by the registry, and
becomes weighted training rows (:func:`training_inputs`) for
``bastion waf train --with-feedback``: every input the request carries that the model
scores, labeled ``clean`` for a false positive and with the vector for a false negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bastion.modelops.routing import zone_of
from bastion.waf.inputs import Input, extract_inputs
from bastion.waf.request import HttpRequest, RequestFormatError

LABELS = ("false_positive", "false_negative")
ATTACK_VECTORS = ("sqli", "xss", "rce")
#: Keys of a stored request object.
_REQUEST_KEYS = ("method", "uri", "headers", "body", "body_base64")


class FeedbackError(ValueError):
    """A mark that cannot be used; the message says why."""


@dataclass(frozen=True)
class CleanFeedback:
    """A validated mark: the request in its canonical object form and its zone."""

    request: dict[str, Any]
    zone: str


def check_feedback(label: str, request: Mapping[str, Any], vector: str | None) -> CleanFeedback:
    """Validate a mark; raises :class:`FeedbackError` naming the problem."""
    if label not in LABELS:
        raise FeedbackError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    if label == "false_negative" and vector not in ATTACK_VECTORS:
        raise FeedbackError(
            f"a false negative names its vector: one of {', '.join(ATTACK_VECTORS)}"
        )
    if label == "false_positive" and vector is not None and vector not in ATTACK_VECTORS:
        raise FeedbackError(f"vector must be one of {', '.join(ATTACK_VECTORS)}")
    unknown = set(request) - {*_REQUEST_KEYS, "id", "url"}
    if unknown:
        raise FeedbackError(f"request has unknown field(s) {', '.join(sorted(unknown))}")
    try:
        parsed = HttpRequest.from_json(dict(request))
    except RequestFormatError as exc:
        raise FeedbackError(f"request: {exc}") from None
    stored = {k: request[k] for k in _REQUEST_KEYS if k in request}
    stored.setdefault("method", parsed.method)
    stored.setdefault("uri", parsed.uri)
    return CleanFeedback(stored, zone_of(parsed.header("host")))


def training_inputs(
    marks: Iterable[Mapping[str, Any]],
) -> list[tuple[Input, str]]:
    """(input, label) rows of stored marks: ``clean`` or the vector of a false negative."""
    rows: list[tuple[Input, str]] = []
    for mark in marks:
        try:
            request = HttpRequest.from_json(dict(mark["request"]))
        except (RequestFormatError, KeyError, TypeError):
            continue
        label = "clean" if mark["label"] == "false_positive" else str(mark.get("vector"))
        if label not in ("clean", *ATTACK_VECTORS):
            continue
        rows.extend((inp, label) for inp in extract_inputs(request).inputs)
    return rows
