"""Reproducible training and group-held-out evaluation (``bastion scripts train``).

Pipeline: corpus (:mod:`bastion.scripts.datagen.corpus`) -> the scorer's own source
preparation, parse and featurizer -> half-window bags -> a one-hidden-layer network over
hashed features with max-pooling over windows, trained with PyTorch on one thread with
fixed seeds -> K-fold cross-validation over groups (malicious families and benign npm
packages held out whole) -> calibration anchored on the held-out benign false-positive
rate -> the final model trained on everything -> ``.npz`` artifact plus a JSON report.

Needs the ``train`` extra (torch); inference needs NumPy only.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.scripts import features as F
from bastion.scripts.datagen.corpus import Corpus, CorpusConfig, Item, build
from bastion.scripts.dataset import Bags, featurize_items, windows_of
from bastion.scripts.fingerprint import pipeline_fingerprint
from bastion.scripts.model import HEADS, ModelWeights, featurizer_fingerprint, version_of

Log = Callable[[str], None]
FloatArray = npt.NDArray[np.float32]
CLASS_HEAD = {"magecart": 0, "cryptomining": 1, "malware": 2}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained model (recorded in the artifact)."""

    seed: int = 20261123
    hidden: int = 16
    epochs: int = 6
    #: Share of feature occurrences dropped from each training bag (rescaled to keep sums).
    feature_dropout: float = 0.3
    #: Never drop the behaviour (capability) tokens: the network then cannot learn to
    #: ignore them in favour of a family's spelling.
    keep_capabilities: bool = False
    batch_size: int = 64
    lr: float = 0.003
    weight_decay: float = 1e-6
    folds: int = 5
    #: Extra passes per epoch over real magecart / cryptomining scripts and their variants.
    rare_repeats: int = 8
    generated_weight: float = 0.7
    #: Weight of the class (kind) loss relative to the detection loss.
    class_weight: float = 0.5
    benign_weight: float = 2.0
    #: Held-out benign false-positive rate at which ``js_integrity`` crosses 50.
    fp_target: float = 0.003
    corpus: CorpusConfig = field(default_factory=CorpusConfig)


# ---------------------------------------------------------------------------- network


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("training needs PyTorch: pip install 'bastion[train]'") from exc
    torch.set_num_threads(1)
    return torch


class _Batch:
    """Tensors of a batch of items: bag inputs, windows, targets, weights."""

    def __init__(
        self,
        torch: Any,
        bags: Bags,
        items: npt.NDArray[np.int64],
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        keep: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        halves = [np.arange(bags.item_ptr[i], bags.item_ptr[i + 1]) for i in items]
        nh = np.array([len(h) for h in halves], dtype=np.int64)
        hidx = np.concatenate(halves)
        sizes = bags.half_ptr[hidx + 1] - bags.half_ptr[hidx]
        flat = np.concatenate(
            [
                np.arange(bags.half_ptr[bags.item_ptr[i]], bags.half_ptr[bags.item_ptr[i + 1]])
                for i in items
            ]
        )
        local_ptr = np.concatenate([[0], np.cumsum(nh)]).astype(np.int64)
        a, b, owner = windows_of(local_ptr, np.arange(len(items), dtype=np.int64))
        self.ids = torch.from_numpy(bags.ids[flat].astype(np.int64))
        cnt = bags.cnt[flat]
        if dropout > 0 and rng is not None:
            kept = rng.random(len(cnt)) >= dropout
            if keep is None:
                cnt = (cnt * kept / (1.0 - dropout)).astype(np.float32)
            else:
                always = keep[bags.ids[flat]]
                scaled = (cnt * kept / (1.0 - dropout)).astype(np.float32)
                cnt = np.where(always, cnt, scaled).astype(np.float32)
        self.weights = torch.from_numpy(cnt)
        self.offsets = torch.from_numpy(
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        )
        self.half_count = torch.from_numpy(bags.half_count[hidx])
        self.wa = torch.from_numpy(a)
        self.wb = torch.from_numpy(np.where(b < 0, len(hidx), b))
        self.owner = torch.from_numpy(owner)
        self.n_items = len(items)


def _make_net(torch: Any, hidden: int) -> Any:
    nn = torch.nn

    class Net(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.EmbeddingBag(1 << F.BITS, hidden, mode="sum")
            nn.init.zeros_(self.emb.weight)
            self.b1 = nn.Parameter(torch.full((hidden,), 0.1))
            self.out = nn.Linear(hidden, len(HEADS))

        def forward(self, batch: _Batch) -> Any:
            hs = self.emb(batch.ids, batch.offsets, per_sample_weights=batch.weights)
            hs = torch.cat([hs, torch.zeros(1, hs.shape[1])])
            hc = torch.cat([batch.half_count, torch.zeros(1)])
            cnt = torch.clamp(hc[batch.wa] + hc[batch.wb], min=1.0)
            x = (hs[batch.wa] + hs[batch.wb]) / torch.sqrt(cnt)[:, None]
            wl = self.out(torch.relu(x + self.b1))
            init = torch.full((batch.n_items, len(HEADS)), -1e9)
            idx = batch.owner[:, None].expand(-1, len(HEADS))
            return init.scatter_reduce(0, idx, wl, reduce="amax", include_self=True)

    return Net()


def _targets(items: Sequence[Item]) -> FloatArray:
    y = np.zeros((len(items), len(HEADS)), np.float32)
    for n, it in enumerate(items):
        if it.label != "benign":
            y[n, CLASS_HEAD[it.label]] = 1.0
            y[n, 3] = 1.0
    return y


def _item_weights(items: Sequence[Item], config: TrainConfig) -> FloatArray:
    w = np.ones(len(items), np.float32)
    for n, it in enumerate(items):
        if it.label == "benign":
            w[n] = config.benign_weight
        elif it.origin in ("generated", "injected") or (
            it.origin.startswith("variant:") and not it.parent
        ):
            w[n] = config.generated_weight
    return w


def fit(
    bags: Bags,
    items: Sequence[Item],
    train_idx: npt.NDArray[np.int64],
    config: TrainConfig,
    log: Log,
) -> ModelWeights:
    """Train one network on ``train_idx``; returns uncalibrated weights."""
    torch = _torch()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = _make_net(torch, config.hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    y_all = torch.from_numpy(_targets(items))
    w_all = torch.from_numpy(_item_weights(items, config))
    rare = np.array(
        [
            i
            for i in train_idx
            if items[i].label in ("magecart", "cryptomining") and items[i].parent
        ],
        np.int64,
    )
    reals_rare = np.array(
        [
            i
            for i in train_idx
            if items[i].label in ("magecart", "cryptomining") and items[i].origin == "real"
        ],
        np.int64,
    )
    rare = np.concatenate([rare, reals_rare])
    steps_total = config.epochs * (
        (len(train_idx) + len(rare) * config.rare_repeats) // config.batch_size + 1
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=steps_total, pct_start=0.1
    )
    keep_ids = F.capability_feature_mask() if config.keep_capabilities else None
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    ce = torch.nn.CrossEntropyLoss(reduction="none")
    step = 0
    for epoch in range(config.epochs):
        order = np.concatenate([train_idx, np.tile(rare, config.rare_repeats)])
        rng.shuffle(order)
        total = 0.0
        t0 = time.monotonic()
        for lo in range(0, len(order), config.batch_size):
            if step >= steps_total:
                break
            idx = order[lo : lo + config.batch_size]
            batch = _Batch(torch, bags, idx, config.feature_dropout, rng, keep_ids)
            logits = net(batch)
            it = torch.from_numpy(idx)
            y = y_all[it]
            # Detection: the malicious head against everything. Kind: a softmax over the
            # class heads, on malicious scripts only (it never has to reject benign code).
            det = bce(logits[:, 3], y[:, 3])
            mal = y[:, 3] > 0
            kind = torch.zeros_like(det)
            if bool(mal.any()):
                kind[mal] = ce(logits[mal, :3], y[mal, :3].argmax(dim=1))
            loss = ((det + config.class_weight * kind) * w_all[it]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total += float(loss.detach()) * len(idx)
        took = time.monotonic() - t0
        log(f"  epoch {epoch + 1}/{config.epochs}: loss {total / len(order):.4f} ({took:.0f} s)")
    with torch.no_grad():
        emb = net.emb.weight.detach().numpy().astype(np.float32)
        return ModelWeights(
            emb=emb.astype(np.float16).astype(np.float32),
            b1=net.b1.detach().numpy().astype(np.float32),
            w2=net.out.weight.detach().numpy().astype(np.float32),
            b2=net.out.bias.detach().numpy().astype(np.float32),
            calib_x=[np.array([-1.0, 1.0], np.float32)] * len(HEADS),
            calib_y=[np.array([0.0, 1.0], np.float32)] * len(HEADS),
        )


def predict_logits(weights: ModelWeights, bags: Bags, idx: npt.NDArray[np.int64]) -> FloatArray:
    """Script logits (len(idx), heads) from bags, with the NumPy forward pass's arithmetic."""
    emb16 = weights.emb.astype(np.float16)
    out = np.zeros((len(idx), len(HEADS)), np.float32)
    for n, i in enumerate(idx):
        h0, h1 = bags.item_ptr[i], bags.item_ptr[i + 1]
        sums = np.zeros((h1 - h0, weights.hidden), np.float32)
        for k, h in enumerate(range(h0, h1)):
            a, b = bags.half_ptr[h], bags.half_ptr[h + 1]
            if b > a:
                rows = emb16[bags.ids[a:b]].astype(np.float32)
                sums[k] = (rows * bags.cnt[a:b, None]).sum(axis=0)
        counts = bags.half_count[h0:h1]
        from bastion.scripts.model import window_inputs

        x = window_inputs(sums, counts)
        hid = np.maximum(x + weights.b1, 0.0)
        out[n] = (hid @ weights.w2.T + weights.b2).max(axis=0)
    return out


# ------------------------------------------------------------------------ calibration


def calibration_knots(benign_logits: FloatArray, fp_target: float) -> tuple[FloatArray, FloatArray]:
    """Monotone logit -> probability knots anchored on held-out benign logits.

    Probability 0.5 (score 50, the verdict threshold) sits where ``fp_target`` of held-out
    benign scripts score higher; 0.8 (score 20) where a tenth of that rate does (and at
    least one logit above); 0.2 at the benign 99th percentile.
    """
    b = np.sort(benign_logits.astype(np.float64))
    thr = float(np.quantile(b, 1.0 - fp_target)) if len(b) else 0.0
    hi = max(float(np.quantile(b, 1.0 - fp_target / 10)) if len(b) else thr, thr + 1.0)
    p99 = min(float(np.quantile(b, 0.99)) if len(b) else thr - 2.0, thr - 0.25)
    lo = min(float(np.quantile(b, 0.5)) if len(b) else thr - 4.0, p99 - 0.25)
    xs = np.array([lo - 4.0, lo, p99, thr, hi, hi + 4.0], np.float64)
    ys = np.array([0.0, 0.01, 0.2, 0.5, 0.8, 0.99], np.float64)
    for k in range(1, len(xs)):
        xs[k] = max(xs[k], xs[k - 1] + 1e-3)
    return xs.astype(np.float32), ys.astype(np.float32)


def calibrate_from(
    benign_logits: FloatArray, config: TrainConfig
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Knots per head: the ``malicious`` head anchored on held-out benign scripts; the
    class heads the identity (their logits only feed the softmax that names the class)."""
    ident = np.array([-1e4, 1e4], np.float32)
    cx, cy = [], []
    for h in range(len(HEADS)):
        if HEADS[h] == "malicious":
            x, y = calibration_knots(benign_logits[:, h], config.fp_target)
        else:
            x, y = ident, ident
        cx.append(x)
        cy.append(y)
    return cx, cy


# -------------------------------------------------------------------------- folds


def assign_folds(items: Sequence[Item], k: int) -> dict[str, int]:
    """Fold of every held-out-able group: families and packages dealt round-robin per label."""
    by_label: dict[str, list[str]] = {}
    for it in items:
        if it.origin == "real":
            by_label.setdefault(it.label, [])
            if it.group not in by_label[it.label]:
                by_label[it.label].append(it.group)
    folds: dict[str, int] = {}
    offset = 0
    for label in sorted(by_label):
        groups = sorted(by_label[label], key=lambda g: zlib.crc32(g.encode()))
        for n, g in enumerate(groups):
            folds[g] = (n + offset) % k
        offset += len(groups)
    return folds


@dataclass
class CvResult:
    """Out-of-fold logits of every testable item."""

    index: npt.NDArray[np.int64]
    logits: FloatArray
    fold: npt.NDArray[np.int64]


def cross_validate(bags: Bags, items: Sequence[Item], config: TrainConfig, log: Log) -> CvResult:
    folds = assign_folds(items, config.folds)
    fold_of = np.array([folds.get(it.group, -1) for it in items], np.int64)
    testable = np.array([it.testable for it in items])
    idx_all, logit_all, fold_all = [], [], []
    for k in range(config.folds):
        train_idx = np.flatnonzero(fold_of != k).astype(np.int64)
        test_idx = np.flatnonzero((fold_of == k) & testable).astype(np.int64)
        log(f"fold {k + 1}/{config.folds}: train {len(train_idx)}, test {len(test_idx)}")
        w = fit(bags, items, train_idx, config, log)
        idx_all.append(test_idx)
        logit_all.append(predict_logits(w, bags, test_idx))
        fold_all.append(np.full(len(test_idx), k))
    return CvResult(np.concatenate(idx_all), np.concatenate(logit_all), np.concatenate(fold_all))


# --------------------------------------------------------------------------- driver


def corpus_fingerprint(config: CorpusConfig) -> str:
    return hashlib.sha256(
        (json.dumps(asdict(config), sort_keys=True) + featurizer_fingerprint()).encode()
    ).hexdigest()[:16]


def load_featurized(
    shared_js: Path, config: TrainConfig, log: Log, cache: Path | None
) -> tuple[Corpus, Bags]:
    corpus = build(shared_js, config.corpus, log=log)
    path = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        for it in corpus:
            digest.update(it.id.encode() + b"\0" + hashlib.sha256(it.text).digest())
        ids = digest.hexdigest()[:12]
        path = cache / f"bags-{corpus_fingerprint(config.corpus)}-{ids}.npz"
        if path.exists():
            log(f"featurized corpus from cache {path}")
            return corpus, Bags.load(str(path))
    t0 = time.monotonic()
    bags = featurize_items((it.text for it in corpus), total=len(corpus), log=log)
    mb = sum(len(it.text) for it in corpus) / 1e6
    log(f"featurized {len(corpus)} scripts, {mb:.0f} MB in {time.monotonic() - t0:.0f} s")
    if path is not None:
        bags.save(str(path))
    return corpus, bags


def train(
    shared_js: Path,
    config: TrainConfig,
    out: Path,
    log: Log,
    *,
    report: Path | None = None,
    cache: Path | None = None,
) -> dict[str, Any]:
    """Cross-validate, calibrate, train the final model, write it; returns the report."""
    from bastion.scripts.evaluate import cv_report

    corpus, bags = load_featurized(shared_js, config, log, cache)
    items = corpus.items
    cv = cross_validate(bags, items, config, log)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            report.with_suffix(".oof.npz"),
            index=cv.index,
            logits=cv.logits,
            fold=cv.fold,
            ids=np.array([items[i].id for i in cv.index]),
            labels=np.array([items[i].label for i in cv.index]),
            groups=np.array([items[i].group for i in cv.index]),
            origins=np.array([items[i].origin for i in cv.index]),
        )
    rep = cv_report(items, cv, config)
    log(rep["summary"])
    benign_mask = np.array(
        [items[i].label == "benign" and items[i].origin == "real" for i in cv.index]
    )
    calib_x, calib_y = calibrate_from(cv.logits[benign_mask], config)
    log("final model on all data")
    weights = fit(bags, items, np.arange(len(items), dtype=np.int64), config, log)
    weights.calib_x, weights.calib_y = calib_x, calib_y
    weights.meta = {
        "featurizer": featurizer_fingerprint(),
        "pipeline": pipeline_fingerprint(),
        "heads": list(HEADS),
        "train_config": asdict(config),
        "corpus_items": len(items),
        "cv": {k: v for k, v in rep.items() if k != "summary"},
    }
    data = weights.to_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    rep["model_version"] = version_of(data)
    rep["model_bytes"] = len(data)
    log(f"wrote {out} ({len(data) / 1e6:.1f} MB, {rep['model_version']})")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(rep, indent=2, sort_keys=True))
    return rep
