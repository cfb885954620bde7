"""Score the shared web-log "good queries" that the training corpus did NOT sample.

Training caps ``fwaf_goodqueries_more.txt`` (109k real request lines) at a random 23k, so the
remaining lines are real benign traffic the model never saw: the closest thing to the
sealed "real benign query strings" suite available here. The same is done for the
malicious Fwaf lines. Lines the dataset README flags as plain attacks inside the "good"
file are dropped by the same cleaning rule the corpus uses.

    python benchmarks/unseen_shared.py [--shared ../shared] [--model PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bastion.cli import default_shared_root
from bastion.waf import HttpRequest, load_scorer
from bastion.waf.datagen import build_corpus, load_shared
from bastion.waf.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    root = (args.shared or default_shared_root() or Path("../shared")) / "datasets" / "waf"
    trained = {s.value for s in build_corpus(root, TrainConfig().seed, 1.0)}
    scorer = load_scorer(args.model, cache_size=0)
    for source, label in (
        ("shared:benign/fwaf_goodqueries_more.txt", "clean"),
        ("shared:mixed/fwaf_badqueries.txt", "attack"),
    ):
        lines = [s.value for s in load_shared(root) if s.source == source and s.kind == "path"]
        unseen = [v for v in lines if v not in trained]
        results = scorer.score_batch([HttpRequest("GET", v) for v in unseen])
        flagged = [v for v, r in zip(unseen, results, strict=True) if r.score <= 20]
        with_query = [v for v in unseen if "?" in v]
        flagged_query = [v for v in flagged if "?" in v]
        print(
            f"{source} ({label}): {len(unseen)} unseen lines, flagged {len(flagged)} "
            f"({100 * len(flagged) / max(len(unseen), 1):.3f}%); with a query string: "
            f"{len(flagged_query)}/{len(with_query)} flagged"
        )
        if label == "clean":
            for v in flagged[:25]:
                print("   ", v[:140])


if __name__ == "__main__":
    main()
