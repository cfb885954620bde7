"""Check the hand-written sets: parse, counts, labels, distinctness, encodings, round trips.

Run: ``.venv/bin/python benchmarks/handmade/validate.py`` (exit status 1 on any problem).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from _attack import recover  # noqa: E402
from _common import check_uri, parse_multipart  # noqa: E402

from bastion.waf.request import HttpRequest  # noqa: E402

SETS = {
    "clean_real_queries.jsonl": ("clean", 400),
    "clean_hard_negatives.jsonl": ("clean", 300),
    "sqli_bypass.jsonl": ("sqli", 200),
    "xss_bypass.jsonl": ("xss", 200),
    "rce_bypass.jsonl": ("rce", 200),
}


def check_query(q: str, charset: str) -> None:
    for part in q.split("&"):
        k, _, v = part.partition("=")
        for s in (k, v):
            raw = unquote_to_bytes(s.replace("+", " "))
            if charset == "utf-8":
                raw.decode("utf-8")  # raises on a broken percent-encoded sequence


def main() -> int:
    problems = 0
    seen_payloads: dict[str, str] = {}
    for name, (label, n) in SETS.items():
        rows = [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]
        assert len(rows) == n, f"{name}: {len(rows)} != {n}"
        keys = set()
        for i, row in enumerate(rows):
            try:
                req = HttpRequest.from_json(row)
                assert row["label"] == label
                assert row["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE")
                check_uri(row["uri"])
                meta = row.get("meta", {})
                cs = meta.get("charset", "utf-8")
                if req.query and meta.get("encoding") != "u":
                    check_query(req.query, cs)
                hdr = {k.lower(): v for k, v in row["headers"]}
                assert hdr.get("host"), "no Host"
                assert hdr.get("user-agent") is not None, "no User-Agent"
                if req.body:
                    assert "content-type" in hdr, "body without Content-Type"
                    assert int(hdr.get("content-length", len(req.body))) == len(req.body), "Content-Length"
                    ct = hdr["content-type"]
                    if ct.startswith("application/json"):
                        json.loads(row["body"])
                    elif ct.startswith("application/x-www-form-urlencoded"):
                        if meta.get("encoding") != "u":
                            check_query(row["body"], cs)
                    elif ct.startswith("multipart/form-data"):
                        assert parse_multipart(row["body"], ct)
                if label != "clean":
                    got = recover(row)
                    assert got is not None and meta["payload"] in got, f"payload not recoverable: {got!r}"
                    p = meta["payload"]
                    assert p not in seen_payloads, f"payload repeated from {seen_payloads.get(p)}"
                    seen_payloads[p] = name
                key = json.dumps([row["method"], row["uri"], row.get("body"), row["headers"]])
                assert key not in keys, "duplicate request"
                keys.add(key)
            except Exception as exc:
                problems += 1
                print(f"{name}:{i + 1}: {type(exc).__name__}: {exc}")
        ok = "ok" if not problems else "PROBLEMS"
        print(f"{name}: {len(rows)} rows, label {label!r}: {ok}")
    # crude check that no attack marker leaked into the clean sets
    marker = re.compile(r"alert\(|onerror=|/etc/passwd|sleep\(\d|xp_cmdshell|<script", re.I)
    for name in ("clean_real_queries.jsonl", "clean_hard_negatives.jsonl"):
        for i, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines()):
            if marker.search(line):
                print(f"{name}:{i + 1}: note: contains an attack-like marker (expected for deliberate hard negatives; check it is benign)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
