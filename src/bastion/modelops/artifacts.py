"""Model artifacts: what a model file is, checked before it is registered.

:func:`inspect_artifact` loads the bytes as a WAF or script model (which refuses a file
whose request pipeline fingerprint differs from this build's, see
:mod:`bastion.waf.fingerprint`) and returns what the registry records: the content-hashed
version, the full SHA-256, the featurizer id and pipeline fingerprint, the training-data
fingerprint, the metrics and a model card.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

#: Largest artifact accepted (the shipped models are about 8 MB).
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024


class ArtifactError(ValueError):
    """The bytes are not a usable bastion model; the message says why."""


@dataclass(frozen=True)
class ArtifactInfo:
    """What the registry records about one model file."""

    kind: str  # "waf" or "scripts"
    version: str  # content-hashed id, e.g. "waf-bf4eb6136ee9"
    sha256: str
    size: int
    featurizer: str
    pipeline: str
    data_fingerprint: str
    metrics: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)


def _data_fingerprint(meta: dict[str, Any]) -> str:
    """The training data's fingerprint; files without one get a ``cfg-`` hash of their
    training configuration and corpus size (weaker: it names the recipe, not the rows)."""
    recorded = meta.get("data_fingerprint")
    if isinstance(recorded, str) and recorded:
        return recorded
    recipe = {k: meta.get(k) for k in ("config", "train_config", "corpus_items", "label_counts")}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return f"cfg-{digest}"


def _card(kind: str, meta: dict[str, Any]) -> dict[str, Any]:
    config = meta.get("config") or meta.get("train_config") or {}
    card: dict[str, Any] = {
        "kind": kind,
        "heads": meta.get("heads") or (["sqli", "xss", "rce", "global"] if kind == "waf" else None),
        "training_config": config,
    }
    for key in ("label_counts", "training_windows", "corpus_items"):
        if key in meta:
            card[key] = meta[key]
    return card


def inspect_artifact(data: bytes) -> ArtifactInfo:
    """Validate ``data`` as a WAF or script model of this build; raises :class:`ArtifactError`."""
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactError(f"artifact has {len(data)} bytes; the limit is {MAX_ARTIFACT_BYTES}")
    if not data.startswith(b"PK"):
        raise ArtifactError("artifact is not a .npz model file (no zip header)")
    from bastion.scripts import model as js
    from bastion.waf import model as waf

    try:
        waf_weights = waf.ModelWeights.from_bytes(data)
    except waf.ModelError as exc:
        waf_error = str(exc)
    else:
        try:
            waf.check_pipeline(waf_weights.meta, "bastion waf train")
        except waf.ModelError as exc:
            raise ArtifactError(f"WAF model refused: {exc}") from None
        return _info("waf", waf.version_of(data), data, waf_weights.meta)
    try:
        js_weights = js.ModelWeights.from_bytes(data)
    except js.ModelError as exc:
        raise ArtifactError(f"not a bastion model ({waf_error}; {exc})") from None
    try:
        js.Model(js_weights, js.version_of(data))  # checks the pipeline fingerprint
    except js.ModelError as exc:
        raise ArtifactError(f"script model refused: {exc}") from None
    return _info("scripts", js.version_of(data), data, js_weights.meta)


def _info(kind: str, version: str, data: bytes, meta: dict[str, Any]) -> ArtifactInfo:
    from bastion.scripts.fingerprint import expected_pipeline as js_expected
    from bastion.waf.fingerprint import expected_pipeline as waf_expected

    pipeline = (waf_expected if kind == "waf" else js_expected)(meta) or ""
    metrics = meta.get("metrics") if kind == "waf" else meta.get("cv")
    return ArtifactInfo(
        kind=kind,
        version=version,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        featurizer=str(meta.get("featurizer", "")),
        pipeline=pipeline,
        data_fingerprint=_data_fingerprint(meta),
        metrics=dict(metrics or {}),
        card=_card(kind, meta),
    )
