"""The script-classifier artifact: weights, calibration, metadata, forward pass (NumPy).

Network: the features of a window of the syntax tree (two consecutive halves of
``HALF_WINDOW`` positions) are pooled as ``sum(emb[f]) / sqrt(count)``; one hidden ReLU
layer; four heads ``magecart, cryptomining, malware, malicious``. A script's logit per
head is the maximum over its windows, so a skimmer appended to a large library is
judged on the windows that hold it (multiple-instance pooling, the same in training).
The ``malicious`` head (sigmoid, trained against everything) becomes a probability
through a monotone piecewise-linear calibration map; the three class heads (trained as
a softmax on malicious scripts only) keep their logits (identity map) and only name the
kind of malicious script.

The artifact is one ``.npz`` file; its version id is a hash of its bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.scripts import features as F
from bastion.scripts.tree import KIND_NAMES

FloatArray = npt.NDArray[np.float32]

HEADS: tuple[str, ...] = ("magecart", "cryptomining", "malware", "malicious")
#: Version of the tree+featurizer contract; bump when either changes its output.
FEATURIZER_VERSION = "js-feat-6"
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "scripts-model.npz"
#: Feature ids gathered at once (bounds the temporary memory of one forward pass).
GATHER_CHUNK = 1 << 20


class ModelError(RuntimeError):
    """The model file is missing, corrupt, or incompatible with this featurizer."""


def featurizer_fingerprint() -> str:
    """Hash of everything that decides the model's input."""
    parts = [
        FEATURIZER_VERSION,
        repr((F.BITS, F.HALF_WINDOW, F.SEED_TOKEN, F.MAX_DECODE_DEPTH, F.STRING_SCAN_CHARS)),
        repr((F.GROUP_KIND3, F.GROUP_UNI, F.GROUP_BI, F.GROUP_CTX, F.GROUP_EXTRA, F.GROUP_CAPS)),
        repr(F.CAPABILITIES),
        "\n".join(KIND_NAMES),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass
class ModelWeights:
    """Parameters of the network plus calibration knots per head."""

    emb: FloatArray  # (2**BITS, hidden), stored as float16
    b1: FloatArray  # (hidden,)
    w2: FloatArray  # (heads, hidden)
    b2: FloatArray  # (heads,)
    calib_x: list[FloatArray]  # per head, increasing logits
    calib_y: list[FloatArray]  # per head, probabilities
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def hidden(self) -> int:
        return int(self.emb.shape[1])

    def calibrate(self, logits: FloatArray) -> npt.NDArray[np.float64]:
        """Calibrated outputs for an (n, heads) logit array (see the module docstring)."""
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
            "meta": np.frombuffer(json.dumps(self.meta, sort_keys=True).encode(), np.uint8),
        }
        for h, name in enumerate(HEADS):
            arrays[f"calib_x_{name}"] = np.asarray(self.calib_x[h], np.float32)
            arrays[f"calib_y_{name}"] = np.asarray(self.calib_y[h], np.float32)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelWeights:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                emb = np.ascontiguousarray(z["emb"])
                if emb.ndim != 2 or emb.shape[0] != 1 << F.BITS:
                    raise ValueError(f"embedding table of shape {emb.shape}")
                return cls(
                    emb=emb,
                    b1=np.ascontiguousarray(z["b1"], dtype=np.float32),
                    w2=np.ascontiguousarray(z["w2"], dtype=np.float32),
                    b2=np.ascontiguousarray(z["b2"], dtype=np.float32),
                    calib_x=[z[f"calib_x_{h}"].astype(np.float32) for h in HEADS],
                    calib_y=[z[f"calib_y_{h}"].astype(np.float32) for h in HEADS],
                    meta=meta,
                )
        except (KeyError, ValueError, OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"model file is corrupt or not a bastion script model: {exc}") from exc


def version_of(data: bytes) -> str:
    """Content-hashed model version id."""
    return "js-" + hashlib.sha256(data).hexdigest()[:12]


def half_window_sums(
    fs: F.FeatureSet, emb: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per half-window: the sum of the embedding rows of its features, and their count."""
    nhalf = max(1, -(-fs.length // F.HALF_WINDOW))
    sums = np.zeros((nhalf, emb.shape[1]), dtype=np.float32)
    counts = np.zeros(nhalf, dtype=np.float32)
    for ids_all, pos_all in fs.groups:
        for lo in range(0, len(ids_all), GATHER_CHUNK):
            ids = ids_all[lo : lo + GATHER_CHUNK]
            half = np.minimum(pos_all[lo : lo + GATHER_CHUNK] // F.HALF_WINDOW, nhalf - 1)
            if len(ids) == 0:
                continue
            # Positions are sorted, so each half is a contiguous run.
            starts = np.flatnonzero(half[1:] != half[:-1]) + 1
            starts = np.concatenate(([0], starts))
            seg = np.add.reduceat(emb[ids], starts, axis=0, dtype=np.float32)
            which = half[starts]
            sums[which] += seg
            counts[which] += np.diff(np.append(starts, len(ids))).astype(np.float32)
    return sums, counts


def window_inputs(
    sums: npt.NDArray[np.float32], counts: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Pooled input of each window (two consecutive halves), count-normalized."""
    if len(sums) > 1:
        sums = sums[:-1] + sums[1:]
        counts = counts[:-1] + counts[1:]
    scale = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    out: npt.NDArray[np.float32] = (sums * scale[:, None]).astype(np.float32)
    return out


class Model:
    """A loaded model: weights plus the forward pass."""

    def __init__(self, weights: ModelWeights, version: str) -> None:
        from bastion.scripts.fingerprint import expected_pipeline, pipeline_fingerprint

        fp = weights.meta.get("featurizer")
        if fp != featurizer_fingerprint():
            raise ModelError(
                f"model was trained with featurizer {fp!r}, this build has "
                f"{featurizer_fingerprint()!r}: retrain with `bastion scripts train`"
            )
        expected, current = expected_pipeline(weights.meta), pipeline_fingerprint()
        if expected is None:
            raise ModelError(
                f"model carries no pipeline fingerprint and its featurizer id {fp!r} is not "
                "in the legacy table: retrain with `bastion scripts train`"
            )
        if expected != current:
            raise ModelError(
                f"model was trained with script pipeline (parser+featurizer) {expected!r}, "
                f"this build's is {current!r}: retrain with `bastion scripts train`"
            )
        self.weights = weights
        self.version = version
        # float16 on disk, float32 in memory: the gather-and-sum is then a plain float32 pass.
        self._emb = np.ascontiguousarray(weights.emb, dtype=np.float32)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Model:
        p = Path(path) if path is not None else DEFAULT_MODEL_PATH
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model file {p}: {exc.strerror}") from exc
        return cls(ModelWeights.from_bytes(data), version_of(data))

    def window_logits(self, fs: F.FeatureSet) -> FloatArray:
        """Logits (windows, heads) of one script."""
        w = self.weights
        x = window_inputs(*half_window_sums(fs, self._emb))
        h = np.maximum(x + w.b1, 0.0)
        out: FloatArray = (h @ w.w2.T + w.b2).astype(np.float32)
        return out

    def logits(self, fs: F.FeatureSet) -> FloatArray:
        """Script logits per head: the maximum over its windows."""
        wl = self.window_logits(fs)
        out: FloatArray = wl.max(axis=0)
        return out
