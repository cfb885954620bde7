"""The WAF model artifact: weights, calibration, metadata, and its forward pass.

The network is one hidden layer over hashed features (see :mod:`bastion.waf.features`):
``h = relu(sum(emb[f] for f in feats) / sqrt(len(feats)) + b1)`` (``feats`` distinct) and
``logits = w2 @ h + b2`` for the heads ``sqli, xss, rce, global``. Logits become
probabilities through a per-head monotone piecewise-linear calibration map.

The artifact is one ``.npz`` file; its version id is a hash of its bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.waf import features as F
from bastion.waf.result import HEADS

FloatArray = npt.NDArray[np.float32]

#: Version of the normalizer+featurizer contract; bump when either changes output.
FEATURIZER_VERSION = "waf-feat-2"
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "waf-model.npz"


class ModelError(RuntimeError):
    """The model file is missing, corrupt, or incompatible with this featurizer."""


def featurizer_fingerprint() -> str:
    """Hash of everything that decides the model's input: hashing constants and keywords."""
    parts = [
        FEATURIZER_VERSION,
        repr(
            (
                F.SEED_CHAR,
                F.SEED_SHAPE,
                F.SEED_WORD,
                F.SEED_TOKEN,
                F.CHAR_MAX_N,
                F.SHAPE_MIN_N,
                F.SHAPE_MAX_N,
                F.WINDOW_CHARS,
                F.WINDOW_STEP,
                sorted(F.KIND_CHARS.items()),
                sorted(F.KEYWORD_TABLE.items()),
            )
        ),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def check_pipeline(meta: dict[str, Any], retrain: str) -> None:
    """Refuse a model whose request pipeline (normalizer + featurizer) is not this build's.

    The model file's ``meta["pipeline"]`` (or, for files written before it existed, the
    documented legacy mapping of its featurizer id) must equal
    :func:`bastion.waf.fingerprint.pipeline_fingerprint`.
    """
    from bastion.waf.fingerprint import expected_pipeline, pipeline_fingerprint

    expected, current = expected_pipeline(meta), pipeline_fingerprint()
    if expected is None:
        raise ModelError(
            f"model carries no pipeline fingerprint and its featurizer id "
            f"{meta.get('featurizer')!r} is not in the legacy table: retrain with `{retrain}`"
        )
    if expected != current:
        raise ModelError(
            f"model was trained with request pipeline (normalizer+featurizer) {expected!r}, "
            f"this build's is {current!r}: retrain with `{retrain}`"
        )


@dataclass
class ModelWeights:
    """Parameters of the network plus calibration knots per head."""

    bits: int
    emb: FloatArray  # (2**bits, hidden)
    b1: FloatArray  # (hidden,)
    w2: FloatArray  # (4, hidden)
    b2: FloatArray  # (4,)
    calib_x: list[FloatArray]  # per head, increasing logits
    calib_y: list[FloatArray]  # per head, probabilities
    meta: dict[str, Any] = field(default_factory=dict)
    _knots: list[tuple[list[float], list[float]]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    @property
    def hidden(self) -> int:
        return int(self.emb.shape[1])

    def probability(self, head: int, logit: float) -> float:
        """Calibrated probability of one logit; the same interpolation as :meth:`calibrate`."""
        xs, ys = self._knots[head]
        i = bisect.bisect_right(xs, logit)
        if i == 0:
            return ys[0]
        if i == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (logit - x0) / (x1 - x0)

    def __post_init__(self) -> None:
        self._knots = [
            (x.astype(np.float64).tolist(), y.astype(np.float64).tolist())
            for x, y in zip(self.calib_x, self.calib_y, strict=True)
        ]

    def calibrate(self, logits: FloatArray) -> npt.NDArray[np.float64]:
        """Per-head calibrated attack probabilities for a (n, 4) logit array."""
        out = np.empty(logits.shape, dtype=np.float64)
        for h in range(len(HEADS)):
            out[:, h] = np.interp(logits[:, h], self.calib_x[h], self.calib_y[h])
        return out

    def to_bytes(self) -> bytes:
        """Serialize deterministically (same weights -> same bytes -> same version)."""
        arrays: dict[str, Any] = {
            "emb": self.emb.astype(np.float16),
            "b1": self.b1.astype(np.float32),
            "w2": self.w2.astype(np.float32),
            "b2": self.b2.astype(np.float32),
            "meta": np.frombuffer(
                json.dumps({**self.meta, "bits": self.bits}, sort_keys=True).encode(), np.uint8
            ),
        }
        for h, name in enumerate(HEADS):
            arrays[f"calib_x_{name}"] = np.asarray(self.calib_x[h], np.float32)
            arrays[f"calib_y_{name}"] = np.asarray(self.calib_y[h], np.float32)
        buf = io.BytesIO()
        # np.savez_compressed writes zip entries with fixed timestamps, so output is stable.
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelWeights:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                return cls(
                    bits=int(meta["bits"]),
                    emb=np.ascontiguousarray(z["emb"], dtype=np.float32),
                    b1=np.ascontiguousarray(z["b1"], dtype=np.float32),
                    w2=np.ascontiguousarray(z["w2"], dtype=np.float32),
                    b2=np.ascontiguousarray(z["b2"], dtype=np.float32),
                    calib_x=[z[f"calib_x_{h}"].astype(np.float32) for h in HEADS],
                    calib_y=[z[f"calib_y_{h}"].astype(np.float32) for h in HEADS],
                    meta=meta,
                )
        except (KeyError, ValueError, OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"model file is corrupt or not a bastion WAF model: {exc}") from exc


def version_of(data: bytes) -> str:
    """Content-hashed model version id."""
    return "waf-" + hashlib.sha256(data).hexdigest()[:12]


class Model:
    """A loaded model: weights plus the fastest available forward pass."""

    def __init__(self, weights: ModelWeights, version: str, *, use_c: bool = True) -> None:
        fp = weights.meta.get("featurizer")
        if fp != featurizer_fingerprint():
            raise ModelError(
                f"model was trained with featurizer {fp!r}, this build has "
                f"{featurizer_fingerprint()!r}: retrain with `bastion waf train`"
            )
        check_pipeline(weights.meta, "bastion waf train")
        self.weights = weights
        self.version = version
        self._engine: Any = None
        if use_c:
            try:
                from bastion.waf import _fastpath
            except ImportError:
                self._engine = None
            else:
                self._engine = _fastpath.Engine(
                    weights.bits,
                    F.KEYWORD_TABLE,
                    weights.hidden,
                    weights.emb,
                    weights.b1,
                    weights.w2,
                    weights.b2,
                )

    @classmethod
    def load(cls, path: str | Path | None = None, *, use_c: bool = True) -> Model:
        p = Path(path) if path is not None else DEFAULT_MODEL_PATH
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model file {p}: {exc.strerror}") from exc
        return cls(ModelWeights.from_bytes(data), version_of(data), use_c=use_c)

    @property
    def accelerated(self) -> bool:
        return self._engine is not None

    def logits(self, texts: list[str], kinds: bytes) -> FloatArray:
        """Logits (n, 4) of model windows; ``kinds`` holds one kind character code per text."""
        if not texts:
            return np.zeros((0, len(HEADS)), np.float32)
        if self._engine is not None:
            raw = self._engine.logits(texts, kinds)
            return np.frombuffer(raw, dtype=np.float32).reshape(len(texts), len(HEADS))
        return self.logits_reference(texts, kinds)

    def logits_reference(self, texts: list[str], kinds: bytes) -> FloatArray:
        """Pure-Python/NumPy forward pass (the reference the C engine is tested against)."""
        w = self.weights
        code_to_kind = {ord(c): k for k, c in F.KIND_CHARS.items()}
        out = np.empty((len(texts), len(HEADS)), np.float32)
        for i, text in enumerate(texts):
            ids = F.featurize(text, code_to_kind.get(kinds[i], "value"), w.bits)
            acc = w.emb[np.asarray(ids, dtype=np.int64)].sum(axis=0, dtype=np.float32)
            scale = np.float32(1.0 / np.sqrt(len(ids))) if ids else np.float32(0.0)
            hid = np.maximum(acc * scale + w.b1, 0.0)
            out[i] = w.w2 @ hid + w.b2
        return out
