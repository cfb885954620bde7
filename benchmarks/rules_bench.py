"""Rule evaluation speed: mean nanoseconds per RuleSet.evaluate call.

Usage: .venv/bin/python benchmarks/rules_bench.py [--repeat N]

Measures the default rules and a 20-rule set of the kinds operators write (score bands,
paths, methods, hosts, a regex), over a fixed mix of clean and attack-like contexts.
"""

from __future__ import annotations

import argparse
import time

from bastion.rules import DEFAULT_RULE_SPECS, RuleContext, RuleSet, RuleSpec, compile_rules

TWENTY_RULES: tuple[RuleSpec, ...] = (
    RuleSpec("log-likely", "waf.score < 40", "log"),
    RuleSpec("skip-health", 'path == "/healthz" or path == "/readyz"', "skip"),
    RuleSpec("skip-static", 'method in {"GET", "HEAD"} and path startswith "/static/"', "skip"),
    RuleSpec("block-admin", 'waf.score < 50 and path startswith "/admin"', "block"),
    RuleSpec("block-sqli", "waf.sqli < 15", "block"),
    RuleSpec("block-xss", "waf.xss < 15", "block"),
    RuleSpec("block-rce", "waf.rce < 15", "block"),
    RuleSpec("log-sqli-band", "waf.sqli >= 15 and waf.sqli < 30", "log"),
    RuleSpec(
        "challenge-login", 'path == "/login" and method == "POST" and waf.score < 60', "challenge"
    ),
    RuleSpec("block-wp", 'path contains "wp-admin" or path endswith ".php"', "block"),
    RuleSpec("block-dotfiles", 'path matches "/\\\\.(git|env|svn)(/|$)"', "block"),
    RuleSpec("block-trace", 'method in {"TRACE", "TRACK", "CONNECT"}', "block"),
    RuleSpec(
        "api-strict",
        'host == "api.example.com" and waf.class in {"attack", "likely_attack"}',
        "block",
    ),
    RuleSpec("log-unscored-post", 'method == "POST" and waf.class == "unscored"', "log"),
    RuleSpec("challenge-search", 'path startswith "/search" and waf.score < 35', "challenge"),
    RuleSpec("block-upload", 'path startswith "/upload" and not (waf.rce > 40)', "block"),
    RuleSpec(
        "log-odd-method",
        'method not in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}',
        "log",
    ),
    RuleSpec(
        "block-internal", 'host endswith ".internal" and not path startswith "/public"', "block"
    ),
    RuleSpec("log-mid", "waf.score >= 40 and waf.score <= 60", "log"),
    RuleSpec("block-attacks", "waf.score < 20", "block"),
)

CONTEXTS: tuple[RuleContext, ...] = (
    RuleContext(99, 99, 99, 99, "clean", "GET", "www.example.com", "/products/42"),
    RuleContext(100, 100, 100, 100, "unscored", "GET", "www.example.com", "/"),
    RuleContext(97, 98, 99, 97, "clean", "POST", "api.example.com", "/v1/orders"),
    RuleContext(55, 60, 55, 90, "likely_clean", "GET", "www.example.com", "/search"),
    RuleContext(35, 35, 80, 90, "likely_attack", "GET", "www.example.com", "/search"),
    RuleContext(8, 5, 60, 80, "attack", "GET", "www.example.com", "/item"),
    RuleContext(92, 95, 96, 93, "clean", "GET", "cdn.example.com", "/static/app.js"),
    RuleContext(99, 99, 99, 99, "clean", "GET", "www.example.com", "/healthz"),
)


def bench(rules: RuleSet, repeat: int) -> float:
    """Mean ns per evaluate() over the context mix (best of 5 runs)."""
    evaluate = rules.evaluate
    contexts = CONTEXTS * 16
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(repeat):
            for ctx in contexts:
                evaluate(ctx)
        best = min(best, (time.perf_counter_ns() - t0) / (repeat * len(contexts)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    t0 = time.perf_counter()
    default = compile_rules(DEFAULT_RULE_SPECS)
    twenty = compile_rules(TWENTY_RULES)
    compile_ms = (time.perf_counter() - t0) * 1000
    print(f"compiled {len(default) + len(twenty)} rules in {compile_ms:.2f} ms")
    for name, rules in (("default rules", default), ("20-rule set", twenty)):
        print(f"{name:14s} ({len(rules):2d} rules): {bench(rules, args.repeat):7.0f} ns/evaluation")


if __name__ == "__main__":
    main()
