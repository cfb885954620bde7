#!/usr/bin/env python
"""Benchmark bastion's script classifier on one core.

* **unseen**: every file scanned once by a scorer with empty caches (source preparation,
  tree-sitter parse, pruned tree, normalized-AST hash, features, model): MB/s over all
  bytes, plus the share of time per stage and the slowest files.
* **cached**: the same files scanned again (raw-bytes cache): scripts/s.
* **reformatted**: whitespace-changed copies (a miss on the bytes, a hit on the AST hash).

The process pins itself to one CPU and sets BLAS/OpenMP threads to one. Files: ``--dir``
(any directory of scripts; the default is a mix of benign npm files from the local
benign cache and the shared malicious samples, read as text, never run).

    python benchmarks/scripts_bench.py --dir ../shared/datasets/js/samples --limit 3000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from bastion.scripts import SourceError, load_scorer  # noqa: E402
from bastion.scripts.features import Featurizer  # noqa: E402
from bastion.scripts.normhash import normalized_hash  # noqa: E402
from bastion.scripts.source import prepare  # noqa: E402
from bastion.scripts.tree import parse_many  # noqa: E402

SUFFIXES = (".js", ".mjs", ".cjs", ".html", ".htm")


def default_files(limit: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out: list[Path] = []
    benign = Path.home() / ".cache" / "bastion" / "js-benign" / "pkgs"
    if benign.is_dir():
        files = sorted(p for p in benign.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        out += rng.sample(files, min(len(files), limit * 3 // 4))
    samples = ROOT.parent / "shared" / "datasets" / "js" / "samples"
    if samples.is_dir():
        files = sorted(p for p in samples.rglob("*.js"))
        out += rng.sample(files, min(len(files), limit - len(out)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--dir", type=Path, help="directory of scripts (default: benign npm + samples mix)"
    )
    ap.add_argument("--limit", type=int, default=2000, help="files at most")
    ap.add_argument("--max-bytes", type=int, default=5_000_000, help="skip larger files")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    ap.add_argument("--stages", action="store_true", help="also time each stage separately")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    if args.dir:
        files = sorted(p for p in args.dir.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        files = random.Random(args.seed).sample(files, min(len(files), args.limit))
    else:
        files = default_files(args.limit, args.seed)
    datas = [d for d in (p.read_bytes() for p in files) if 0 < len(d) <= args.max_bytes]
    total = sum(len(d) for d in datas)
    t0 = time.perf_counter()
    scorer = load_scorer(args.model)
    load_s = time.perf_counter() - t0
    scorer.scan(b"var warm = 1;")
    print(f"# bastion scripts benchmark ({platform.processor() or platform.machine()}, one core)")
    print(
        f"model {scorer.version}, load {load_s * 1e3:.0f} ms; "
        f"{len(datas)} files, {total / 1e6:.1f} MB"
    )

    times: list[tuple[float, int]] = []
    errors = 0
    t_all = time.perf_counter()
    for d in datas:
        t = time.perf_counter()
        try:
            scorer.scan(d)
        except SourceError:
            errors += 1
        times.append((time.perf_counter() - t, len(d)))
    unseen_s = time.perf_counter() - t_all
    print(
        f"unseen:      {total / unseen_s / 1e6:6.2f} MB/s  ({len(datas) / unseen_s:.0f} scripts/s, "
        f"{errors} errors)"
    )
    slow = sorted(times, reverse=True)[:3]
    print("  slowest: " + ", ".join(f"{t * 1e3:.0f} ms / {n / 1e3:.0f} KB" for t, n in slow))

    # Fresh bytes objects each round, as a service reading bodies off the network has:
    # Python caches a bytes object's hash, which would flatter the cached path.
    budget = max(1, 200_000_000 // max(total, 1))
    reps = max(1, min(budget, 50_000 // max(len(datas), 1)))
    cached_s = 0.0
    for _ in range(reps):
        fresh = [bytes(bytearray(d)) for d in datas]
        t = time.perf_counter()
        for d in fresh:
            with contextlib.suppress(SourceError):
                scorer.scan(d)
        cached_s += time.perf_counter() - t
    print(
        f"cached:      {reps * len(datas) / cached_s:8.0f} scripts/s  "
        f"(mean {total / len(datas) / 1e3:.1f} KB per script)"
    )

    sample = datas[: min(len(datas), 300)]
    variants = [d.replace(b"\n", b"\n ") + b"\n" for d in sample]
    t = time.perf_counter()
    for d in variants:
        with contextlib.suppress(SourceError):
            scorer.scan(d)
    ref_s = time.perf_counter() - t
    vbytes = sum(len(d) for d in variants)
    print(f"reformatted: {vbytes / ref_s / 1e6:6.2f} MB/s  (bytes-cache miss, AST-hash hit)")

    if args.stages:
        st = {"prepare": 0.0, "parse+prune": 0.0, "hash": 0.0, "features": 0.0, "model": 0.0}
        fz = Featurizer()
        for d in datas:
            t = time.perf_counter()
            try:
                src = prepare(d)
            except SourceError:
                continue
            t1 = time.perf_counter()
            tree = parse_many(src.chunks)
            t2 = time.perf_counter()
            normalized_hash(tree)
            t3 = time.perf_counter()
            fs = fz.featurize(tree)
            t4 = time.perf_counter()
            scorer.model.logits(fs)
            t5 = time.perf_counter()
            for k, v in zip(st, (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                st[k] += v
        whole = sum(st.values())
        print(
            "stages: "
            + ", ".join(f"{k} {100 * v / whole:.0f}%" for k, v in st.items())
            + f" (sum {total / whole / 1e6:.2f} MB/s)"
        )


if __name__ == "__main__":
    main()
