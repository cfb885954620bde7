"""Score scripts: source preparation -> pruned tree -> features -> model -> verdict.

Two caches keep repeated work away: one keyed by a digest of the raw bytes (a script
seen before costs a hash and a dictionary look-up), one keyed by the normalized-AST hash
(a reformatted or re-mangled copy of a known script costs a parse, not a model run).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from bastion.scripts.features import Featurizer
from bastion.scripts.model import HEADS, Model
from bastion.scripts.normhash import normalized_hash
from bastion.scripts.result import (
    LIKELY_MALICIOUS_MAX,
    MALICIOUS_CLASSES,
    ScriptClass,
    ScriptResult,
    probability_to_score,
)
from bastion.scripts.source import SourceError, prepare
from bastion.scripts.tree import parse_many

__all__ = ["ScriptScorer", "SourceError", "load_scorer"]

_EMPTY_HASH = "0" * 32


#: Keying the raw-bytes cache by Python's keyed SipHash (plus the length) is several times
#: cheaper than a cryptographic digest. Its key is random per process, so nobody can craft
#: a script that collides with a cached one; when the key is pinned (PYTHONHASHSEED set),
#: the cache falls back to SHA-256.
_SIPHASH_KEYS = sys.flags.hash_randomization != 0 and os.environ.get("PYTHONHASHSEED") in (
    None,
    "",
    "random",
)


def raw_key(data: bytes) -> tuple[int, int] | bytes:
    """Cache key of a script's raw bytes."""
    if _SIPHASH_KEYS:
        return (hash(data), len(data))
    return hashlib.sha256(data).digest()


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[object, ScriptResult] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: object) -> ScriptResult | None:
        with self.lock:
            r = self.data.get(key)
            if r is not None:
                self.data.move_to_end(key)
            return r

    def put(self, key: object, value: ScriptResult) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


class ScriptScorer:
    """Classifies scripts with one loaded model; thread-safe, with bounded caches."""

    def __init__(self, model: Model, cache_size: int = 100_000) -> None:
        self.model = model
        self._raw = _Lru(cache_size)
        self._ast = _Lru(cache_size)

    @property
    def version(self) -> str:
        return self.model.version

    def scan(self, data: bytes) -> ScriptResult:
        """Verdict on one file's bytes (JavaScript or HTML). Raises :class:`SourceError`."""
        key = raw_key(data)
        hit = self._raw.get(key)
        if hit is not None:
            return hit
        src = prepare(data)
        tree = parse_many(src.chunks)
        ast_hash = normalized_hash(tree) if tree.kinds else _EMPTY_HASH
        cached = self._ast.get(ast_hash)
        if cached is not None:
            self._raw.put(key, cached)
            return cached
        if tree.kinds:
            fs = Featurizer().featurize(tree)
            probs = self.model.weights.calibrate(self.model.logits(fs)[None, :])[0]
        else:
            probs = np.zeros(len(HEADS))
        result = verdict(probs, ast_hash, src.container, src.truncated)
        self._ast.put(ast_hash, result)
        self._raw.put(key, result)
        return result

    def scan_path(self, path: str | Path) -> ScriptResult:
        """Verdict on one file. Raises ``OSError`` or :class:`SourceError`."""
        with open(path, "rb") as f:
            data = f.read()
        return self.scan(data)


def class_shares(values: np.typing.NDArray[np.float64]) -> np.typing.NDArray[np.float64]:
    """Which malicious class: a softmax over the class heads.

    ``values`` is the calibrated output in ``HEADS`` order; the class heads' calibration
    is the identity, so their entries are logits.
    """
    z = np.asarray([values[HEADS.index(c)] for c in MALICIOUS_CLASSES], np.float64)
    e = np.exp(z - z.max())
    out: np.typing.NDArray[np.float64] = e / e.sum()
    return out


def verdict(
    probs: np.typing.NDArray[np.float64], ast_hash: str, container: str, truncated: bool
) -> ScriptResult:
    """Scores and class from calibrated probabilities in ``HEADS`` order.

    ``js_integrity`` comes from the ``malicious`` head alone (its calibration is what
    the false-positive budget is spent on); the class heads only say which kind of
    malicious it is (:func:`class_shares`): each class score is ``js_integrity``'s
    probability times the class's share, so ``js_integrity`` is never above a class score
    and the class is ``benign`` exactly when ``js_integrity`` is above 50.
    """
    p_mal = float(probs[HEADS.index("malicious")])
    shares = class_shares(probs)
    integrity = probability_to_score(p_mal)
    cls: ScriptClass = "benign"
    if integrity <= LIKELY_MALICIOUS_MAX:
        cls = MALICIOUS_CLASSES[int(np.argmax(shares))]
    by_class = {
        c: probability_to_score(p_mal * float(q))
        for c, q in zip(MALICIOUS_CLASSES, shares, strict=True)
    }
    return ScriptResult(
        js_integrity=integrity,
        magecart=max(by_class["magecart"], integrity),
        cryptomining=max(by_class["cryptomining"], integrity),
        malware=max(by_class["malware"], integrity),
        cls=cls,
        ast_hash=ast_hash,
        container=container,
        truncated=truncated,
    )


def load_scorer(path: str | Path | None = None, cache_size: int = 100_000) -> ScriptScorer:
    """A scorer over the shipped model (or the model file at ``path``)."""
    return ScriptScorer(Model.load(path), cache_size=cache_size)
