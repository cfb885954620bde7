"""Build labeled evaluation sets from public lists that training never sees.

Sources are Debian packages, fetched with ``apt-get download`` and unpacked into a
cache directory. No ``apt-get install`` is run. The packages are:

* ``wfuzz``: its ``wordlist/Injections`` lists (derived from fuzzdb): SQL.txt and
  XSS.txt. Probes of 3 characters or fewer are dropped.
* ``sqlmap``: ``data/txt/user-agents.txt``, 4,000+ real browser User-Agent strings,
  used as a benign header set.

Usage::

    python benchmarks/external_sets.py OUT_DIR [--cache DIR]
    bastion waf eval OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

BROWSER_HEADERS = [
    ["Host", "shop.example.com"],
    ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
    ["Accept-Language", "en-US,en;q=0.5"],
]


def fetch_package(name: str, cache: Path) -> Path:
    """Download and unpack a Debian package (no install); returns the unpack root."""
    root = cache / name
    if root.is_dir():
        return root
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", name], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob(f"{name}_*.deb"))
        root.mkdir(parents=True)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def read_lines(path: Path, min_len: int = 4) -> list[str]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    seen: set[str] = set()
    out = []
    for line in lines:
        line = line.strip()
        if len(line) >= min_len and line not in seen:
            seen.add(line)
            out.append(line)
    return out


def query_request(payload: str, label: str) -> dict[str, object]:
    return {
        "method": "GET",
        "uri": "/catalog/view?item=" + quote(payload, safe=""),
        "headers": [*BROWSER_HEADERS, ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"]],
        "label": label,
    }


def write_set(out: Path, name: str, rows: list[dict[str, object]]) -> None:
    with open(out / f"{name}.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"{name}: {len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("work/debian-lists"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    wfuzz = fetch_package("wfuzz", args.cache) / "usr/share/wfuzz/wordlist/Injections"
    write_set(
        args.out, "wfuzz_sqli", [query_request(p, "sqli") for p in read_lines(wfuzz / "SQL.txt")]
    )
    write_set(
        args.out, "wfuzz_xss", [query_request(p, "xss") for p in read_lines(wfuzz / "XSS.txt")]
    )

    sqlmap = fetch_package("sqlmap", args.cache) / "usr/share/sqlmap/data/txt/user-agents.txt"
    agents = [a for a in read_lines(sqlmap, min_len=10) if not a.startswith("#")]
    write_set(
        args.out,
        "clean_sqlmap_user_agents",
        [
            {
                "method": "GET",
                "uri": "/",
                "headers": [*BROWSER_HEADERS, ["User-Agent", ua]],
                "label": "clean",
            }
            for ua in agents
        ],
    )


if __name__ == "__main__":
    main()
