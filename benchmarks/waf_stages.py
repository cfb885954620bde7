"""Time each stage of the WAF scorer per request: extraction, decoding, model, the rest.

python benchmarks/waf_stages.py [--n 3000] [--core 1]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bastion.waf import datagen, load_scorer
from bastion.waf import features as F
from bastion.waf.inputs import extract_inputs
from bastion.waf.scorer import _is_plain_raw, is_inert
from bastion.waf.transforms import normalize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--core", type=int, default=None)
    args = parser.parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    rng = random.Random(5)
    requests = [datagen.benign_request(rng) for _ in range(args.n)]
    n = len(requests)

    t = time.perf_counter()
    extracted = [extract_inputs(r).inputs for r in requests]
    t_extract = time.perf_counter() - t
    values = [(i.value, i.kind) for e in extracted for i in e if not _is_plain_raw(i.value, i.kind)]
    t = time.perf_counter()
    normalized = [(normalize(v), k) for v, k in values]
    t_normalize = time.perf_counter() - t
    windows = [
        (w, k) for text, k in normalized if not is_inert(text, k) for _, w in F.windows(text)
    ]
    scorer = load_scorer(cache_size=0)
    kinds = bytes(ord(F.KIND_CHARS[k]) for _, k in windows)
    features = sum(len(F.featurize(w, k, scorer.model.weights.bits)) for w, k in windows[:500])
    t = time.perf_counter()
    scorer.model.logits([w for w, _ in windows], kinds)
    t_model = time.perf_counter() - t
    t = time.perf_counter()
    scorer.score_batch(requests)
    t_total = time.perf_counter() - t

    def us(seconds: float) -> str:
        return f"{seconds / n * 1e6:8.1f}"

    per_window = features / max(min(len(windows), 500), 1)
    print(
        f"{n} requests, {sum(map(len, extracted)) / n:.1f} inputs and "
        f"{len(values) / n:.1f} non-trivial values per request, "
        f"{len(windows) / n:.1f} windows, ~{per_window * len(windows) / n:.0f} features"
    )
    print("stage                 us/request")
    print(f"extract_inputs        {us(t_extract)}")
    print(f"normalize             {us(t_normalize)}")
    print(f"model (C engine)      {us(t_model)}")
    print(f"rest of score_batch   {us(t_total - t_extract - t_normalize - t_model)}")
    print(f"total score_batch     {us(t_total)}  ({n / t_total:,.0f} req/s)")


if __name__ == "__main__":
    main()
