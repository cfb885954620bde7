"""Time each stage of the WAF scorer per request: extraction, decoding, model, the rest.

python benchmarks/waf_stages.py [--n 3000] [--core 1] [--repeat 3]

Two columns: the Python loop (``Scorer(native=False)``, the reference) stage by stage,
and the C pipeline, whose stages run inside one call per batch; its stage times below
come from calling the same C code one piece at a time (so they include a Python call and
result objects per piece), and only its total is the real cost. Each figure is the best
of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable

from bastion.waf import datagen
from bastion.waf import features as F
from bastion.waf.inputs import extract_inputs
from bastion.waf.model import Model
from bastion.waf.scorer import Scorer, _is_plain_raw, is_inert
from bastion.waf.transforms import normalize


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--core", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    rng = random.Random(5)
    requests = [datagen.benign_request(rng) for _ in range(args.n)]
    n = len(requests)
    model = Model.load()
    python = Scorer(model, cache_size=0, native=False)
    native = Scorer(model, cache_size=0)

    extracted = [extract_inputs(r).inputs for r in requests]
    values = [(i.value, i.kind) for e in extracted for i in e if not _is_plain_raw(i.value, i.kind)]
    normalized = [(normalize(v), k) for v, k in values]
    windows = [
        (w, k) for text, k in normalized if not is_inert(text, k) for _, w in F.windows(text)
    ]
    texts = [w for w, _ in windows]
    kinds = bytes(ord(F.KIND_CHARS[k]) for _, k in windows)

    def batches(scorer: Scorer) -> None:
        for i in range(0, n, 256):
            scorer.score_batch(requests[i : i + 256])

    py = {
        "extract inputs": best_of(args.repeat, lambda: [extract_inputs(r) for r in requests]),
        "normalize": best_of(args.repeat, lambda: [normalize(v) for v, _ in values]),
        "model (C engine)": best_of(args.repeat, lambda: model.logits(texts, kinds)),
        "total score_batch": best_of(args.repeat, lambda: batches(python)),
    }
    py["rest of score_batch"] = py["total score_batch"] - sum(
        py[k] for k in ("extract inputs", "normalize", "model (C engine)")
    )
    c: dict[str, float | None] = {"rest of score_batch": None}
    if native.native:
        from bastion.waf import _fastpath

        pipeline = native._native
        c["extract inputs"] = best_of(args.repeat, lambda: [pipeline.extract(r) for r in requests])
        c["normalize"] = best_of(args.repeat, lambda: [_fastpath.normalize(v) for v, _ in values])
        c["model (C engine)"] = py["model (C engine)"]
        c["total score_batch"] = best_of(args.repeat, lambda: batches(native))

    def us(seconds: float | None) -> str:
        return "       -" if seconds is None else f"{seconds / n * 1e6:8.1f}"

    print(
        f"{n} requests, {sum(map(len, extracted)) / n:.1f} inputs and "
        f"{len(values) / n:.1f} non-trivial values per request, "
        f"{len(windows) / n:.1f} windows of {sum(map(len, texts)) / n:.0f} characters"
    )
    print("stage (us/request)     Python loop   C pipeline")
    for stage in (
        "extract inputs",
        "normalize",
        "model (C engine)",
        "rest of score_batch",
        "total score_batch",
    ):
        print(f"{stage:22s} {us(py[stage])}     {us(c.get(stage))}")
    for name, seconds in (
        ("Python loop", py["total score_batch"]),
        ("C pipeline", c.get("total score_batch")),
    ):
        if seconds is not None:
            print(f"{name}: {n / seconds:,.0f} req/s in batches of 256")


if __name__ == "__main__":
    main()
