"""The C forward pass: every kernel and table layout gives bit-identical logits."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bastion.waf import datagen
from bastion.waf import features as F
from bastion.waf.inputs import extract_inputs
from bastion.waf.model import DEFAULT_MODEL_PATH, ModelWeights
from bastion.waf.transforms import normalize

fastpath = pytest.importorskip("bastion.waf._fastpath")


@pytest.fixture(scope="module")
def weights() -> ModelWeights:
    return ModelWeights.from_bytes(DEFAULT_MODEL_PATH.read_bytes())


def _engine(w: ModelWeights, emb: np.ndarray | None = None, *, half: bool = True) -> object:
    table = w.emb if emb is None else emb
    return fastpath.Engine(w.bits, F.KEYWORD_TABLE, w.hidden, table, w.b1, w.w2, w.b2, half=half)


@pytest.fixture(scope="module")
def windows() -> tuple[list[str], bytes]:
    rng = random.Random(7)
    texts = [
        normalize(i.value)
        for _ in range(150)
        for i in extract_inputs(datagen.benign_request(rng)).inputs
    ]
    for generate in (datagen.generate_sqli, datagen.generate_xss, datagen.generate_rce):
        texts += [normalize(s.value) for s in generate(rng, 100)]
    alphabet = [chr(c) for c in range(0x250)] + ["中", "\U0001f600", "\ud800", "\udfff"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    texts += ["", "a", "x" * 2000]
    wins = [w for t in texts for _, w in F.windows(t)]
    kinds = bytes(rng.choice(b"pvhr") for _ in wins)
    return wins, kinds


def test_half_table_gives_the_same_logits_bit_for_bit(weights, windows) -> None:  # type: ignore[no-untyped-def]
    half = _engine(weights)
    if not half.half:
        pytest.skip("no AVX2/F16C on this CPU: the float table is used")
    full = _engine(weights, half=False)
    assert not full.half
    texts, kinds = windows
    assert half.logits(texts, kinds) == full.logits(texts, kinds)


def test_engine_close_to_numpy_reference(weights, windows) -> None:  # type: ignore[no-untyped-def]
    from bastion.waf.model import Model

    model = Model.load()
    texts, kinds = windows
    texts, kinds = texts[:300], kinds[:300]
    fast = np.frombuffer(_engine(weights).logits(texts, kinds), np.float32).reshape(-1, 4)
    np.testing.assert_allclose(fast, model.logits_reference(texts, kinds), rtol=1e-4, atol=1e-4)


def test_table_that_is_not_half_floats_stays_float(weights, windows) -> None:  # type: ignore[no-untyped-def]
    emb = weights.emb.copy()
    emb[0, 0] = np.float32(0.1)  # not a half float
    engine = _engine(weights, emb)
    assert not engine.half
    texts, kinds = windows
    assert engine.logits(texts[:200], kinds[:200]) == _engine(weights, emb, half=False).logits(
        texts[:200], kinds[:200]
    )


def test_half_subnormals_and_signed_zero_are_exact(weights) -> None:  # type: ignore[no-untyped-def]
    emb = weights.emb.copy()
    special = np.array([0.0, -0.0, 2.0**-24, -(2.0**-24), 2.0**-15, 65504.0, -65504.0, 2.0**-14])
    emb[: len(special), 0] = special.astype(np.float32)
    engine = _engine(weights, emb)
    texts = ["abc", "\x00", "select 1"]
    assert engine.logits(texts, b"vvv") == _engine(weights, emb, half=False).logits(texts, b"vvv")


def test_features_on_surrogates_and_wide_text() -> None:
    engine = fastpath.Engine(16, F.KEYWORD_TABLE)
    for text in ["\ud800abc\udfff", "中文 select", "\U0001f600" * 10, "a" * 5000]:
        ids = np.frombuffer(engine.features(text, ord("v")), np.uint32).tolist()
        assert ids == F.featurize(text, "value", 16)


def test_argument_errors(weights) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(weights)
    with pytest.raises(ValueError, match="one byte per text"):
        engine.logits(["a", "b"], b"v")
    with pytest.raises(TypeError):
        engine.logits(["a", 1], b"vv")
    with pytest.raises(RuntimeError, match="no model weights"):
        fastpath.Engine(16, F.KEYWORD_TABLE).logits(["a"], b"v")
    with pytest.raises(ValueError, match="bits"):
        fastpath.Engine(40, F.KEYWORD_TABLE)
    with pytest.raises(RuntimeError, match="already initialized"):
        engine.__init__(16, F.KEYWORD_TABLE)
