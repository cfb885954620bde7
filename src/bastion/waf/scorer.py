"""Scoring requests: inputs -> normalized windows -> model -> calibrated 1-99 scores."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bastion.waf import features as F
from bastion.waf.inputs import DEFAULT_LIMITS, Input, InputLimits, extract_inputs
from bastion.waf.model import Model
from bastion.waf.request import HttpRequest
from bastion.waf.result import HEADS, Explanation, WafResult, probability_to_score
from bastion.waf.transforms import normalize

#: Values made only of these characters cannot carry an injection: they skip the model.
_INERT_VALUE = re.compile(r"[a-z0-9_.\-]{0,128}")
_INERT_PATH = re.compile(r"(?:/[a-z0-9_\-][a-z0-9_.\-]{0,80})*/?")
_KIND_CODES = {kind: ord(ch) for kind, ch in F.KIND_CHARS.items()}
#: Most normalized text examined per request; the rest is ignored and the result marked truncated.
MAX_TEXT_PER_REQUEST = 65536
_SNIPPET_CHARS = 96


def is_inert(text: str, kind: str) -> bool:
    """Normalized text that cannot carry an injection (a plain token or plain path)."""
    if kind == "path":
        return _INERT_PATH.fullmatch(text) is not None and ".." not in text
    return _INERT_VALUE.fullmatch(text) is not None


@dataclass(slots=True)
class _Window:
    request: int
    input: Input
    text: str


class Scorer:
    """Scores HTTP requests with a loaded WAF model. Thread-safe for concurrent reads."""

    def __init__(self, model: Model, limits: InputLimits = DEFAULT_LIMITS) -> None:
        self.model = model
        self.limits = limits

    @property
    def version(self) -> str:
        return self.model.version

    def score(self, request: HttpRequest, *, explain: bool = False) -> WafResult:
        """Score one request."""
        return self.score_batch([request], explain=explain)[0]

    def score_batch(
        self, requests: Sequence[HttpRequest], *, explain: bool = False
    ) -> list[WafResult]:
        """Score many requests in one model call (the fast path for throughput)."""
        windows: list[_Window] = []
        has_inputs = [False] * len(requests)
        truncated = [False] * len(requests)
        for r, request in enumerate(requests):
            extracted = extract_inputs(request, self.limits)
            truncated[r] = extracted.truncated
            budget = MAX_TEXT_PER_REQUEST
            for inp in extracted.inputs:
                has_inputs[r] = True
                text = normalize(inp.value)
                if is_inert(text, inp.kind):
                    continue
                if len(text) > budget:
                    text = text[:budget]
                    truncated[r] = True
                budget -= len(text)
                for _, window in F.windows(text):
                    windows.append(_Window(r, inp, window))
                if budget <= 0:
                    truncated[r] = True
                    break

        kinds = bytes(_KIND_CODES.get(w.input.kind, _KIND_CODES["value"]) for w in windows)
        logits = self.model.logits([w.text for w in windows], kinds)
        probs = self.model.weights.calibrate(logits) if len(windows) else np.zeros((0, 4))

        best = np.zeros((len(requests), len(HEADS)), dtype=np.float64)
        best_window = np.full((len(requests), len(HEADS)), -1, dtype=np.int64)
        for i, w in enumerate(windows):
            row = probs[i]
            for h in range(len(HEADS)):
                if best_window[w.request, h] < 0 or row[h] > best[w.request, h]:
                    best[w.request, h] = row[h]
                    best_window[w.request, h] = i

        results = []
        for r in range(len(requests)):
            if not has_inputs[r]:
                results.append(WafResult.unscored())
                continue
            scores = [probability_to_score(float(p)) for p in best[r]]
            expl = None
            if explain:
                expl = {}
                for h, head in enumerate(HEADS):
                    idx = int(best_window[r, h])
                    if idx >= 0:
                        w = windows[idx]
                        expl[head] = Explanation(
                            location=w.input.location,
                            snippet=self._snippet(w, h),
                            score=scores[h],
                        )
            results.append(
                WafResult(
                    score=scores[3],
                    sqli=scores[0],
                    xss=scores[1],
                    rce=scores[2],
                    explanations=expl,
                    truncated=truncated[r],
                )
            )
        return results

    def _snippet(self, window: _Window, head: int) -> str:
        """The decoded substring of a window that drives ``head`` most (by sub-window search)."""
        text = window.text
        if len(text) <= _SNIPPET_CHARS:
            return text
        step = _SNIPPET_CHARS // 2
        starts = list(range(0, len(text) - _SNIPPET_CHARS + step, step))
        subs = [text[s : s + _SNIPPET_CHARS] for s in starts]
        kind = _KIND_CODES.get(window.input.kind, _KIND_CODES["value"])
        logits = self.model.logits(subs, bytes([kind]) * len(subs))
        return subs[int(np.argmax(logits[:, head]))]


def load_scorer(path: str | Path | None = None, *, accelerated: bool = True) -> Scorer:
    """Load a scorer from a model file (default: the model shipped with bastion)."""
    return Scorer(Model.load(path, use_c=accelerated))


__all__ = ["Scorer", "load_scorer"]
