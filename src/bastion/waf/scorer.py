"""Scoring requests: inputs -> normalized windows -> model -> calibrated 1-99 scores."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bastion.waf import features as F
from bastion.waf.inputs import (
    DEFAULT_LIMITS,
    Input,
    InputLimits,
    extract_inputs,
    native_tables,
)
from bastion.waf.model import FloatArray, Model
from bastion.waf.request import HttpRequest
from bastion.waf.result import HEADS, Explanation, WafResult
from bastion.waf.transforms import normalize

#: Values made only of these characters cannot carry an injection: they skip the model.
_INERT_VALUE = re.compile(r"[a-z0-9_.\-]{0,128}")
_INERT_PATH = re.compile(r"(?:/[a-z0-9_\-][a-z0-9_.\-]{0,80})*/?")
#: Raw values that are inert without normalizing: too short to hold base64, no escapes.
_PLAIN_RAW_VALUE = re.compile(r"[A-Za-z0-9_.\-]{0,15}")
_PLAIN_RAW_PATH = re.compile(r"(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,80})*/?")
_KIND_CODES = {kind: ord(ch) for kind, ch in F.KIND_CHARS.items()}
_VALUE_CODE = _KIND_CODES["value"]
_NO_ROW: list[float] = []
#: Up to this many windows per call, calibrate in plain Python instead of NumPy. The two
#: interpolations may round differently in the last bit, so the C pipeline reports the
#: batch's window count and takes the same side.
_SMALL_BATCH_WINDOWS = 48


def _score(p: float) -> int:
    """1..99 from a calibrated probability; same rounding as the NumPy path (half to even)."""
    return min(99, max(1, round(99.0 - 98.0 * p)))


#: Most normalized text examined per request; the rest is ignored and the result marked truncated.
MAX_TEXT_PER_REQUEST = 65536
_SNIPPET_CHARS = 96


def is_inert(text: str, kind: str) -> bool:
    """Normalized text that cannot carry an injection (a plain token or plain path)."""
    if kind == "path":
        return _INERT_PATH.fullmatch(text) is not None and ".." not in text
    return _INERT_VALUE.fullmatch(text) is not None


def _is_plain_raw(value: str, kind: str) -> bool:
    if kind == "path":
        return _PLAIN_RAW_PATH.fullmatch(value) is not None and ".." not in value
    return _PLAIN_RAW_VALUE.fullmatch(value) is not None


#: (windows, their logits, normalized length) of one input value.
_CacheEntry = tuple[tuple[str, ...], list[list[float]], int]
#: Longest raw input value whose windows and logits are cached.
_CACHE_MAX_VALUE = 1024


class _InputCache:
    """Bounded cache of (kind, raw value) -> windows and logits: repeated header and cookie
    values (user agents, sessions) skip normalization and the model.

    Two generations approximate LRU without per-hit bookkeeping: when the young one is
    full it becomes the old one, and entries found in the old one move back.
    """

    def __init__(self, size: int) -> None:
        self.size = size // 2
        self.young: dict[tuple[int, str], _CacheEntry] = {}
        self.old: dict[tuple[int, str], _CacheEntry] = {}

    def get(self, key: tuple[int, str]) -> _CacheEntry | None:
        entry = self.young.get(key)
        if entry is None:
            entry = self.old.get(key)
            if entry is not None:
                self.put(key, entry)
        return entry

    def put(self, key: tuple[int, str], entry: _CacheEntry) -> None:
        if self.size <= 0:
            return
        if len(self.young) >= self.size:
            self.old = self.young
            self.young = {}
        self.young[key] = entry


@dataclass(slots=True)
class _Windows:
    """Model windows of a batch and where each came from."""

    has_inputs: list[bool]
    truncated: list[bool]
    texts: list[str] = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    owners: list[tuple[int, Input]] = field(default_factory=list)  # (request index, input)
    misses: list[int] = field(default_factory=list)  # windows the model must score
    cached_rows: list[tuple[int, list[float]]] = field(default_factory=list)
    new_entries: list[tuple[tuple[int, str], int, int, int]] = field(default_factory=list)


#: Per head: (location, decoded window text, kind code) of the window that scored highest.
_BestWindows = Sequence[tuple[str, str, int] | None]


class Scorer:
    """Scores HTTP requests with a loaded WAF model. Thread-safe for concurrent reads.

    With the C accelerator built, one call per batch does extraction, decoding, windowing
    and the model (``_fastpath.Pipeline``); ``native=False`` keeps the Python loop below,
    the reference it is tested against (results are identical).
    """

    def __init__(
        self,
        model: Model,
        limits: InputLimits = DEFAULT_LIMITS,
        *,
        cache_size: int = 16384,
        native: bool = True,
    ) -> None:
        self.model = model
        self.limits = limits
        self._cache: _InputCache = _InputCache(cache_size)
        self._native: Any = _native_pipeline(model, limits, cache_size) if native else None

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def native(self) -> bool:
        """True when batches are scored by the C pipeline."""
        return self._native is not None

    def score(self, request: HttpRequest, *, explain: bool = False) -> WafResult:
        """Score one request."""
        return self.score_batch([request], explain=explain)[0]

    def score_batch(
        self, requests: Sequence[HttpRequest], *, explain: bool = False
    ) -> list[WafResult]:
        """Score many requests in one model call (the fast path for throughput)."""
        if self._native is not None:
            return self._score_native(requests, explain)
        w = self._collect_windows(requests)
        texts, kinds, owners = w.texts, w.kinds, w.owners
        rows, logits = self._window_logits(w)
        # Calibration is monotone, so the max over windows can be taken on logits.
        if len(texts) <= _SMALL_BATCH_WINDOWS:
            best, best_window = self._reduce_small(rows, owners, len(requests))
            scores = self._scores_small(best)
        else:
            if logits is None:
                logits = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(HEADS))
            best_array, best_window = self._reduce_numpy(logits, owners, len(requests), explain)
            scores = self._scores_numpy(best_array)

        results = []
        for r in range(len(requests)):
            if not w.has_inputs[r]:
                results.append(WafResult.unscored())
                continue
            found: list[tuple[str, str, int] | None] | None = None
            if explain:
                found = []
                for idx in best_window[r]:
                    found.append(
                        None if idx < 0 else (owners[idx][1].location, texts[idx], kinds[idx])
                    )
            results.append(self._result(scores[r], found, w.truncated[r]))
        return results

    def _score_native(self, requests: Sequence[HttpRequest], explain: bool) -> list[WafResult]:
        """score_batch through the C pipeline: it returns each request's maximum logits per
        head; calibration and results are the same code as for the Python loop."""
        raw, flags, n_windows, found = self._native.score(requests, explain)
        best = np.frombuffer(raw, dtype=np.float32).reshape(len(requests), len(HEADS))
        if n_windows <= _SMALL_BATCH_WINDOWS:
            scores = self._scores_small(best.tolist())
        else:
            scores = self._scores_numpy(best)
        results = []
        for r, flag in enumerate(flags):
            if not flag & 1:
                results.append(WafResult.unscored())
            else:
                results.append(
                    self._result(scores[r], found[r] if explain else None, bool(flag & 2))
                )
        return results

    def _result(self, scores: list[int], found: _BestWindows | None, truncated: bool) -> WafResult:
        """A request's result from its head scores and, to explain it, its best windows."""
        sq, xs, rc, gl = scores
        # The global score combines the vectors with the head trained on all attacks.
        gl = min(gl, sq, xs, rc)
        expl = None
        if found is not None:
            expl = {}
            for h, head in enumerate(HEADS):
                window = found[h]
                if window is not None:
                    location, text, kind = window
                    expl[head] = Explanation(
                        location=location,
                        snippet=self._snippet(text, kind, h),
                        score=scores[h],
                    )
            # The global verdict is explained by whichever head decided it.
            decider = min(expl, key=lambda head: expl[head].score, default=None)
            if decider is not None:
                expl["global"] = Explanation(expl[decider].location, expl[decider].snippet, gl)
        return WafResult(gl, sq, xs, rc, explanations=expl, truncated=truncated)

    def _collect_windows(self, requests: Sequence[HttpRequest]) -> _Windows:
        """Extract, decode and window every input; reuse cached windows and logits."""
        w = _Windows(has_inputs=[False] * len(requests), truncated=[False] * len(requests))
        texts, kinds, owners = w.texts, w.kinds, w.owners
        cache = self._cache
        for r, request in enumerate(requests):
            extracted = extract_inputs(request, self.limits)
            w.truncated[r] = extracted.truncated
            budget = MAX_TEXT_PER_REQUEST
            for inp in extracted.inputs:
                w.has_inputs[r] = True
                value, kind = inp.value, inp.kind
                # Only short tokens and paths can be plain (see _PLAIN_RAW_*).
                if (len(value) <= 15 or kind == "path") and _is_plain_raw(value, kind):
                    continue
                code = _KIND_CODES.get(kind, _VALUE_CODE)
                key = (code, value)
                cacheable = len(value) <= _CACHE_MAX_VALUE
                hit = cache.get(key) if cacheable else None
                if hit is not None and hit[2] <= budget:
                    budget -= hit[2]
                    for window, row in zip(hit[0], hit[1], strict=True):
                        w.cached_rows.append((len(texts), row))
                        texts.append(window)
                        kinds.append(code)
                        owners.append((r, inp))
                    # As for a value normalized now (below), so cached or not scores alike.
                    if budget <= 0:
                        w.truncated[r] = True
                        break
                    continue
                text = normalize(value)
                if is_inert(text, kind):
                    if cacheable:
                        cache.put(key, ((), [], 0))
                    continue
                if len(text) > budget:
                    text = text[:budget]
                    w.truncated[r] = True
                    cacheable = False
                budget -= len(text)
                first = len(texts)
                pieces = [text] if len(text) <= F.WINDOW_CHARS else [x for _, x in F.windows(text)]
                for window in pieces:
                    w.misses.append(len(texts))
                    texts.append(window)
                    kinds.append(code)
                    owners.append((r, inp))
                if cacheable:
                    w.new_entries.append((key, first, len(texts), len(text)))
                if budget <= 0:
                    w.truncated[r] = True
                    break
        return w

    def _window_logits(self, w: _Windows) -> tuple[list[list[float]], FloatArray | None]:
        """Logits of every window as lists (and as an array when computed in one call)."""
        logits: FloatArray | None = None
        if not w.cached_rows:  # every window is new: one model call over all of them
            logits = self.model.logits(w.texts, bytes(w.kinds))
            rows = logits.tolist()
        else:
            rows = [_NO_ROW] * len(w.texts)
            if w.misses:
                computed = self.model.logits(
                    [w.texts[i] for i in w.misses], bytes(w.kinds[i] for i in w.misses)
                ).tolist()
                for i, row in zip(w.misses, computed, strict=True):
                    rows[i] = row
            for i, row in w.cached_rows:
                rows[i] = row
        for key, a, b, length in w.new_entries:
            self._cache.put(key, (tuple(w.texts[a:b]), rows[a:b], length))
        return rows, logits

    def _reduce_small(
        self, rows: list[list[float]], owners: list[tuple[int, Input]], n_requests: int
    ) -> tuple[list[list[float]], list[list[int]]]:
        """Per-request max over windows and where it is, in plain Python (few windows:
        NumPy's per-call overhead would dominate)."""
        best = [[-math.inf] * len(HEADS) for _ in range(n_requests)]
        where = [[-1] * len(HEADS) for _ in range(n_requests)]
        for i, row in enumerate(rows):
            r = owners[i][0]
            b, w = best[r], where[r]
            for h in range(len(HEADS)):
                if row[h] > b[h]:
                    b[h] = row[h]
                    w[h] = i
        return best, where

    def _reduce_numpy(
        self, logits: FloatArray, owners: list[tuple[int, Input]], n_requests: int, explain: bool
    ) -> tuple[FloatArray, list[list[int]]]:
        """Per-request max over windows (and where it is when explaining), vectorized."""
        best = np.full((n_requests, len(HEADS)), -np.inf, dtype=np.float32)
        best_window = np.full((n_requests, len(HEADS)), -1, dtype=np.int64)
        if len(owners):
            req_of = np.fromiter((o[0] for o in owners), dtype=np.int64, count=len(owners))
            firsts = np.flatnonzero(np.r_[True, req_of[1:] != req_of[:-1]])
            best[req_of[firsts]] = np.maximum.reduceat(logits, firsts, axis=0)
            if explain:
                bounds = [*firsts.tolist(), len(req_of)]
                for a, b in itertools.pairwise(bounds):
                    best_window[req_of[a]] = a + np.argmax(logits[a:b], axis=0)
        return best, best_window.tolist()

    def _scores_small(self, best: list[list[float]]) -> list[list[int]]:
        """Calibrated 1..99 scores of per-request maximum logits (-inf: no window), one
        interpolation at a time."""
        weights = self.model.weights
        return [
            [_score(weights.probability(h, x) if x > -math.inf else 0.0) for h, x in enumerate(b)]
            for b in best
        ]

    def _scores_numpy(self, best: FloatArray) -> list[list[int]]:
        """Calibrated 1..99 scores of per-request maximum logits, vectorized."""
        probs = self.model.weights.calibrate(best)
        probs[~np.isfinite(best)] = 0.0
        scores: list[list[int]] = (
            np.clip(np.rint(99.0 - 98.0 * probs), 1, 99).astype(np.int64).tolist()
        )
        return scores

    def _snippet(self, text: str, kind: int, head: int) -> str:
        """The decoded substring of a window that drives ``head`` most (by sub-window search)."""
        if len(text) <= _SNIPPET_CHARS:
            return text
        step = _SNIPPET_CHARS // 2
        starts = list(range(0, len(text) - _SNIPPET_CHARS + step, step))
        subs = [text[s : s + _SNIPPET_CHARS] for s in starts]
        logits = self.model.logits(subs, bytes([kind]) * len(subs))
        return subs[int(np.argmax(logits[:, head]))]


def _native_pipeline(model: Model, limits: InputLimits, cache_size: int) -> Any:
    """The C pipeline over the model's C engine, or None where either is missing."""
    engine = model._engine  # the C forward pass, when the model has one
    if engine is None:
        return None
    try:
        from bastion.waf._fastpath import Pipeline
    except ImportError:  # pragma: no cover - an accelerator built before the pipeline
        return None
    defaults = normalize.__kwdefaults__ or {}
    return Pipeline(
        engine,
        native_tables(limits),
        text_budget=MAX_TEXT_PER_REQUEST,
        cache_max_value=_CACHE_MAX_VALUE,
        cache_size=max(cache_size, 0),
        window_chars=F.WINDOW_CHARS,
        window_step=F.WINDOW_STEP,
        normalize_max_chars=defaults["max_chars"],
        normalize_max_depth=defaults["max_depth"],
    )


def load_scorer(
    path: str | Path | None = None,
    *,
    accelerated: bool = True,
    cache_size: int = 16384,
    native: bool = True,
) -> Scorer:
    """Load a scorer from a model file (default: the model shipped with bastion).

    ``cache_size`` bounds the cache of repeated input values (0 disables it).
    ``accelerated=False`` uses no C code at all (NumPy forward pass, Python loop);
    ``native=False`` keeps the C model but the Python loop (the reference of the C one).
    """
    return Scorer(
        Model.load(path, use_c=accelerated), cache_size=cache_size, native=native and accelerated
    )


__all__ = ["Scorer", "load_scorer"]
