"""Shared helpers of the model-ops tests: real model files with distinct versions."""

from __future__ import annotations

import functools

from bastion.waf import model as waf


@functools.cache
def shipped_waf() -> bytes:
    """The committed WAF model's bytes."""
    return waf.DEFAULT_MODEL_PATH.read_bytes()


@functools.cache
def resaved_waf(tag: str) -> bytes:
    """The committed WAF weights re-saved with extra metadata: same scores, new version."""
    weights = waf.ModelWeights.from_bytes(shipped_waf())
    weights.meta = {**weights.meta, "note": tag, "pipeline": weights.meta.get("pipeline")}
    weights.meta = {k: v for k, v in weights.meta.items() if v is not None}
    return weights.to_bytes()


@functools.cache
def shifted_waf(tag: str, bias: float) -> bytes:
    """The committed WAF weights with the global head's bias moved: different scores."""
    weights = waf.ModelWeights.from_bytes(shipped_waf())
    weights.b2 = weights.b2.copy()
    weights.b2[3] += bias
    weights.meta = {**weights.meta, "note": tag}
    return weights.to_bytes()
