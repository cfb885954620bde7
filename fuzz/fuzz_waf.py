"""Coverage-guided fuzzing of the WAF scorer and the CLI line parser with atheris.

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_waf.py -max_total_time=60

Any exception other than the documented ``RequestFormatError`` is a bug, and so is a
score outside 1..100 or a single request that takes more than 2 seconds.
"""

from __future__ import annotations

import json
import sys
import time

import atheris

with atheris.instrument_imports():
    from bastion.waf import HttpRequest, RequestFormatError, load_scorer
    from bastion.waf.transforms import normalize

SCORER = load_scorer(cache_size=0)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 2)
    if mode == 0:  # a raw JSON line, as `bastion waf score` receives it
        try:
            obj = json.loads(fdp.ConsumeBytes(fdp.remaining_bytes()))
            request = HttpRequest.from_json(obj)
        except (ValueError, RequestFormatError):
            return
    elif mode == 1:  # structured request with arbitrary parts
        headers = tuple(
            (fdp.ConsumeUnicodeNoSurrogates(16), fdp.ConsumeUnicodeNoSurrogates(64))
            for _ in range(fdp.ConsumeIntInRange(0, 6))
        )
        content_type = fdp.PickValueInList(
            ["application/json", "application/x-www-form-urlencoded", "text/plain",
             "multipart/form-data; boundary=b", "application/xml", ""]
        )  # fmt: skip
        request = HttpRequest(
            fdp.ConsumeUnicodeNoSurrogates(8) or "GET",
            fdp.ConsumeUnicode(256),
            (("Content-Type", content_type), *headers),
            fdp.ConsumeBytes(fdp.remaining_bytes()),
        )
    else:  # the decoding chain on its own
        text = fdp.ConsumeUnicode(4096)
        if len(normalize(text)) > 8192:
            raise AssertionError("normalize exceeded max_chars")
        return
    start = time.perf_counter()
    result = SCORER.score(request, explain=True)
    if time.perf_counter() - start > 2.0:
        raise AssertionError(f"slow request: {request!r:.200}")
    for value in (result.score, result.sqli, result.xss, result.rce):
        if not 1 <= value <= 100:
            raise AssertionError(f"score out of range: {result}")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
