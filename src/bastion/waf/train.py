"""Reproducible training of the WAF model (``bastion waf train``).

Pipeline: generated + public corpora (:mod:`bastion.waf.datagen`) -> the same
normalization and input extraction the scorer uses -> hashed features (C engine)
-> one-hidden-layer network trained with PyTorch on one thread with fixed seeds ->
isotonic calibration on a group-held-out validation split -> ``.npz`` artifact.

Needs the ``train`` extra (torch, scikit-learn).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.waf import features as F
from bastion.waf.fingerprint import pipeline_fingerprint
from bastion.waf.inputs import DEFAULT_LIMITS, Input, extract_inputs
from bastion.waf.model import ModelWeights, featurizer_fingerprint, version_of
from bastion.waf.result import HEADS
from bastion.waf.scorer import is_inert
from bastion.waf.transforms import normalize

Log = Callable[[str], None]

#: Label -> (targets, per-head loss weights) in head order sqli, xss, rce, global.
_TARGETS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "clean": ((0, 0, 0, 0), (1, 1, 1, 1)),
    "sqli": ((1, 0, 0, 1), (1, 0.3, 0.3, 1)),
    "xss": ((0, 1, 0, 1), (0.3, 1, 0.3, 1)),
    "rce": ((0, 0, 1, 1), (0.3, 0.3, 1, 1)),
    "attack": ((0, 0, 0, 1), (0, 0, 0, 1)),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained model (recorded in the artifact)."""

    seed: int = 20261122
    scale: float = 1.0
    bits: int = 17
    hidden: int = 32
    epochs: int = 5
    batch_size: int = 512
    lr: float = 0.004
    val_fraction: float = 0.1
    placed_fraction: float = 0.2
    benign_requests: int = 20000
    clean_weight: float = 1.5
    hard_negative_weight: float = 3.0
    #: Share of attacks in the traffic the calibration is fitted for (clean rows reweighted).
    calibration_attack_share: float = 0.05
    #: Weight of each window of an analyst's false-positive / false-negative mark.
    feedback_weight: float = 5.0


@dataclass
class Rows:
    """Training rows: one per model window."""

    texts: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, inp: Input, label: str, weight: float, group: str, source: str) -> None:
        text = normalize(inp.value)
        if is_inert(text, inp.kind):
            return
        code = ord(F.KIND_CHARS.get(inp.kind, "v"))
        for _, window in F.windows(text):
            self.texts.append(window)
            self.kinds.append(code)
            self.labels.append(label)
            self.weights.append(weight)
            self.groups.append(group)
            self.sources.append(source)


def build_rows(
    shared_root: Path | None,
    config: TrainConfig,
    log: Log,
    extra: Sequence[tuple[Input, str]] = (),
) -> Rows:
    """Generate the corpus and turn it into model windows, as the scorer would see them.

    ``extra`` are labeled inputs added with ``config.feedback_weight`` (analysts' marks,
    :func:`bastion.modelops.feedback.training_inputs`).
    """
    from bastion.waf import datagen

    t0 = time.perf_counter()
    waf_data = shared_root / "datasets" / "waf" if shared_root is not None else None
    samples = datagen.build_corpus(waf_data, config.seed, config.scale)
    log(f"corpus: {len(samples)} samples in {time.perf_counter() - t0:.1f}s")
    rng = random.Random(config.seed + 1)
    rows = Rows()
    placed = mismatched = 0
    for s in samples:
        weight = config.clean_weight if s.label == "clean" else 1.0
        if s.label == "clean" and "hardneg" in s.source:
            weight = config.hard_negative_weight
        if s.label != "clean" and rng.random() < config.placed_fraction:
            request, location = datagen.place(s.value, rng)
            extracted = extract_inputs(request, DEFAULT_LIMITS).inputs
            if not any(i.location == location for i in extracted):
                mismatched += 1
            else:
                placed += 1
                for inp in extracted:
                    if inp.location == location:
                        rows.add(inp, s.label, weight, s.group, s.source + ":placed")
                    elif inp.value != s.value:
                        rows.add(inp, "clean", config.clean_weight, "placed-filler", "gen:filler")
                continue
        rows.add(
            Input(location="train", kind=s.kind, value=s.value), s.label, weight, s.group, s.source
        )
    for i in range(int(config.benign_requests * config.scale)):
        for inp in extract_inputs(datagen.benign_request(rng), DEFAULT_LIMITS).inputs:
            rows.add(
                inp, "clean", config.clean_weight, f"benign-request-{i % 997}", "gen:clean:request"
            )
    for i, (inp, label) in enumerate(extra):
        rows.add(inp, label, config.feedback_weight, f"feedback-{i}", "feedback")
    if extra:
        log(f"feedback: {len(extra)} inputs from analysts' marks")
    log(
        f"rows: {len(rows.texts)} windows ({placed} attacks placed in requests, "
        f"{mismatched} placements not found by the parser) in {time.perf_counter() - t0:.1f}s"
    )
    return rows


def featurize_rows(
    rows: Rows, bits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Concatenated bucket ids, per-row start offsets and lengths."""
    from bastion.waf._fastpath import Engine

    engine = Engine(bits, F.KEYWORD_TABLE)
    chunks = [engine.features(t, k) for t, k in zip(rows.texts, rows.kinds, strict=True)]
    lengths = np.fromiter((len(c) // 4 for c in chunks), dtype=np.int64, count=len(chunks))
    ids = np.frombuffer(b"".join(chunks), dtype=np.uint32).astype(np.int64)
    starts = np.zeros(len(chunks), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return ids, starts, lengths


def _split(groups: list[str], val_fraction: float, seed: int) -> npt.NDArray[np.bool_]:
    """True for validation rows; whole groups go to one side."""
    cut = int(val_fraction * 10000)
    return np.fromiter(
        ((zlib.crc32(f"{seed}:{g}".encode()) % 10000) < cut for g in groups),
        dtype=np.bool_,
        count=len(groups),
    )


def data_fingerprint(rows: Rows) -> str:
    h = hashlib.sha256()
    for t, k, lab in zip(rows.texts, rows.kinds, rows.labels, strict=True):
        h.update(f"{k}\x00{lab}\x00{t}\x01".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def train(
    shared_root: Path | None,
    config: TrainConfig,
    out_path: Path,
    log: Log = print,
    extra: Sequence[tuple[Input, str]] = (),
) -> dict[str, Any]:
    """Train, calibrate and write the model; returns the validation metrics."""
    import torch
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import roc_auc_score

    torch.manual_seed(config.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    rows = build_rows(shared_root, config, log, extra)
    t0 = time.perf_counter()
    ids, starts, lengths = featurize_rows(rows, config.bits)
    log(f"features: {len(ids)} ids in {time.perf_counter() - t0:.1f}s")

    y = np.array([_TARGETS[lab][0] for lab in rows.labels], dtype=np.float32)
    w = np.array([_TARGETS[lab][1] for lab in rows.labels], dtype=np.float32)
    w *= np.asarray(rows.weights, dtype=np.float32)[:, None]
    is_val = _split(rows.groups, config.val_fraction, config.seed)
    train_idx = np.flatnonzero(~is_val)
    val_idx = np.flatnonzero(is_val)
    log(f"split: {len(train_idx)} train / {len(val_idx)} validation windows")

    emb = torch.nn.EmbeddingBag(1 << config.bits, config.hidden, mode="sum", sparse=True)
    torch.nn.init.normal_(emb.weight, 0.0, 0.05)
    b1 = torch.nn.Parameter(torch.full((config.hidden,), 0.05))
    head = torch.nn.Linear(config.hidden, len(HEADS))
    sparse_opt = torch.optim.SparseAdam(list(emb.parameters()), lr=config.lr)
    dense_opt = torch.optim.Adam([b1, *head.parameters()], lr=config.lr)
    ids_t = torch.from_numpy(ids)

    def batch_inputs(idx: npt.NDArray[np.int64]) -> tuple[Any, Any, Any]:
        lens = lengths[idx]
        offsets = np.zeros(len(idx), dtype=np.int64)
        np.cumsum(lens[:-1], out=offsets[1:])
        pos = np.repeat(starts[idx] - offsets, lens) + np.arange(int(lens.sum()), dtype=np.int64)
        scale = np.repeat(1.0 / np.sqrt(np.maximum(lens, 1)), lens).astype(np.float32)
        return ids_t[torch.from_numpy(pos)], torch.from_numpy(offsets), torch.from_numpy(scale)

    def forward(idx: npt.NDArray[np.int64]) -> Any:
        bid, boff, bscale = batch_inputs(idx)
        hidden = torch.relu(emb(bid, boff, per_sample_weights=bscale) + b1)
        return head(hidden)

    rng = np.random.default_rng(config.seed)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    for epoch in range(config.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(train_idx)
        total = 0.0
        for b in range(0, len(order), config.batch_size):
            idx = order[b : b + config.batch_size]
            logits = forward(idx)
            loss = (
                loss_fn(logits, torch.from_numpy(y[idx])) * torch.from_numpy(w[idx])
            ).sum() / len(idx)
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()  # type: ignore[no-untyped-call]
            dense_opt.step()
            total += float(loss.detach()) * len(idx)
        log(
            f"epoch {epoch + 1}/{config.epochs}: loss {total / len(order):.4f} "
            f"({time.perf_counter() - t0:.0f}s)"
        )

    with torch.no_grad():
        val_logits = np.concatenate(
            [forward(val_idx[b : b + 4096]).numpy() for b in range(0, len(val_idx), 4096)]
        )

    metrics: dict[str, Any] = {"validation_windows": len(val_idx), "heads": {}}
    calib_x, calib_y = [], []
    # Half the validation groups fit the calibration, the other half checks it.
    in_check = _split([rows.groups[i] for i in val_idx], 0.5, config.seed + 7)
    for h, name in enumerate(HEADS):
        usable = w[val_idx, h] > 0
        target = y[val_idx, h] > 0.5
        fit = usable & ~in_check
        check = usable & in_check
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(
            val_logits[fit, h],
            target[fit].astype(np.float64),
            sample_weight=_prior_weights(target[fit], config.calibration_attack_share),
        )
        kx, ky = _compress_knots(iso.X_thresholds_, iso.y_thresholds_)
        calib_x.append(kx)
        calib_y.append(ky)
        scores = np.clip(np.rint(99.0 - 98.0 * np.interp(val_logits[:, h], kx, ky)), 1, 99)
        metrics["heads"][name] = {
            "auc": _auc(target[usable], val_logits[usable, h], roc_auc_score),
            "fp_at_score_le_20": _rate(scores[check & ~target] <= 20),
            "detection_at_score_le_20": _rate(scores[check & target] <= 20),
            "bands": _band_reliability(
                scores[check], target[check], config.calibration_attack_share
            ),
        }
    meta = {
        "featurizer": featurizer_fingerprint(),
        "pipeline": pipeline_fingerprint(),
        "config": asdict(config),
        "data_fingerprint": data_fingerprint(rows),
        "training_windows": len(train_idx),
        "metrics": metrics,
        "label_counts": {lab: rows.labels.count(lab) for lab in sorted(set(rows.labels))},
    }
    weights = ModelWeights(
        bits=config.bits,
        emb=emb.weight.detach().numpy().astype(np.float32),
        b1=b1.detach().numpy().astype(np.float32),
        w2=head.weight.detach().numpy().astype(np.float32),
        b2=head.bias.detach().numpy().astype(np.float32),
        calib_x=calib_x,
        calib_y=calib_y,
        meta=meta,
    )
    data = weights.to_bytes()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    log(f"wrote {out_path} ({len(data) / 1e6:.1f} MB), version {version_of(data)}")
    log(json.dumps(metrics, indent=2))
    return metrics


def _prior_weights(target: npt.NDArray[np.bool_], attack_share: float) -> npt.NDArray[np.float64]:
    """Weights that make attacks ``attack_share`` of the (weighted) rows."""
    n_pos, n_neg = max(int(target.sum()), 1), max(int((~target).sum()), 1)
    return np.where(target, attack_share / n_pos, (1 - attack_share) / n_neg)


def _rate(flags: npt.NDArray[np.bool_]) -> float | None:
    return round(float(flags.mean()), 5) if len(flags) else None


def _auc(target: npt.NDArray[np.bool_], x: npt.NDArray[np.float32], roc_auc: Any) -> float | None:
    if 0 < int(target.sum()) < len(target):
        return round(float(roc_auc(target, x)), 5)
    return None


def _band_reliability(
    scores: npt.NDArray[np.float64], target: npt.NDArray[np.bool_], attack_share: float
) -> dict[str, dict[str, float | int]]:
    """Per class band, the prior-weighted attack share on held-out rows: what a band means."""
    weights = _prior_weights(target, attack_share)
    out: dict[str, dict[str, float | int]] = {}
    for band, lo, hi in (("attack", 1, 20), ("likely_attack", 21, 50),
                         ("likely_clean", 51, 80), ("clean", 81, 99)):  # fmt: skip
        sel = (scores >= lo) & (scores <= hi)
        total = float(weights[sel].sum())
        out[band] = {
            "rows": int(sel.sum()),
            "attack_share": round(float(weights[sel & target].sum()) / total, 4) if total else 0.0,
        }
    return out


def _compress_knots(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Strictly increasing knots for np.interp (isotonic output may repeat x)."""
    xs, idx = np.unique(np.asarray(x, np.float64), return_index=True)
    ys = np.maximum.accumulate(np.asarray(y, np.float64)[idx])
    if len(xs) == 1:
        xs = np.array([xs[0] - 1.0, xs[0] + 1.0])
        ys = np.array([ys[0], ys[0]])
    return xs.astype(np.float32), ys.astype(np.float32)
