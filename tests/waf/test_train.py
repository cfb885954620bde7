"""Training is reproducible: the same config gives the same bytes (and so the same version)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.waf.model import Model, version_of
from bastion.waf.train import TrainConfig, train

pytest.importorskip("torch")
SHARED = Path(__file__).resolve().parents[3] / "shared"


def test_small_training_is_bit_for_bit_reproducible(tmp_path: Path) -> None:
    config = TrainConfig(scale=0.01, epochs=1, bits=14, benign_requests=2000)
    shared = SHARED if (SHARED / "datasets" / "waf").is_dir() else None
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    metrics = train(shared, config, a, log=lambda _: None)
    train(shared, config, b, log=lambda _: None)
    assert a.read_bytes() == b.read_bytes()
    model = Model.load(a)
    assert model.version == version_of(a.read_bytes())
    assert model.weights.meta["config"]["seed"] == config.seed
    # Even a tiny model separates the validation classes far better than chance.
    assert metrics["heads"]["global"]["auc"] > 0.75
