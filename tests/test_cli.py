"""`bastion waf score`: one output line per input line, in order, errors instead of crashes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_score(stdin: bytes, *args: str) -> list[dict]:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, "-m", "bastion", "waf", "score", *args, "-"],
        input=stdin,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_score_echoes_objects_and_marks_errors() -> None:
    lines = [
        json.dumps(
            {"method": "GET", "uri": "/?q=%27%20or%201%3D1--", "headers": {"A": "b"}, "id": 1}
        ),
        "not json",
        json.dumps({"method": "GET", "uri": "/?q=shoes", "headers": [["Host", "x"]], "id": 3}),
        json.dumps({"method": "GET", "uri": 5}),
        "",
        json.dumps([1, 2]),
        json.dumps({"uri": "/x?a=<script>alert(1)</script>", "body": None, "id": 7}),
    ]
    out = run_score(("\n".join(lines) + "\n").encode())
    assert len(out) == len(lines)
    assert out[0]["id"] == 1 and out[0]["waf"]["class"] == "attack"
    assert set(out[0]["waf"]) == {"score", "sqli", "xss", "rce", "class"}
    assert "error" in out[1]
    assert out[2]["id"] == 3 and out[2]["waf"]["score"] > 50
    assert "error" in out[3] and out[3]["uri"] == 5
    assert "error" in out[4] and "error" in out[5]
    assert out[6]["id"] == 7 and out[6]["waf"]["xss"] <= 20


def test_explain_flag_adds_explanations() -> None:
    line = json.dumps({"method": "GET", "uri": "/p?cmd=%3Bcat%20%2Fetc%2Fpasswd", "headers": []})
    out = run_score((line + "\n").encode(), "--explain")
    expl = out[0]["waf"]["explain"]
    assert expl["rce"]["location"] == "query:cmd"
    assert "cat /etc/passwd" in expl["rce"]["snippet"]


def test_invalid_utf8_line_is_an_error_line() -> None:
    out = run_score(b'{"uri": "/\xff\xfe"}\n' + json.dumps({"uri": "/ok"}).encode() + b"\n")
    assert len(out) == 2
    assert "error" in out[0]
    assert "waf" in out[1]


def _batches(data: bytes, monkeypatch, max_line: int = 100) -> list[bytes]:  # type: ignore[no-untyped-def]
    import os
    import threading

    from bastion.cli import waf as cli

    monkeypatch.setattr(cli, "MAX_LINE_BYTES", max_line)
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        for i in range(0, len(data), 7):  # arrive in small, uneven pieces
            os.write(write_fd, data[i : i + 7])
        os.close(write_fd)

    thread = threading.Thread(target=writer)
    thread.start()
    out = [line for batch in cli._read_batches(read_fd) for line in batch]
    thread.join()
    os.close(read_fd)
    return out


def test_reader_reassembles_lines_and_marks_oversized(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bastion.cli import waf as cli

    data = b'{"a": 1}\n' + b"x" * 500 + b"\n" + b"\n" + b'{"b": 2}\n{"c": 3}'
    lines = _batches(data, monkeypatch)
    assert lines == [b'{"a": 1}', cli.OVERSIZED, b"", b'{"b": 2}', b'{"c": 3}']


def test_oversized_line_gets_an_error_line() -> None:
    big = json.dumps({"uri": "/?q=" + "a" * 100}).encode()
    out = run_score(big + b"\n" + json.dumps({"uri": "/ok"}).encode() + b"\n")
    assert len(out) == 2 and "waf" in out[0] and "waf" in out[1]


def test_missing_model_or_input_is_a_one_line_error(tmp_path: Path) -> None:
    for args in (["--model", str(tmp_path / "none.npz"), "-"], [str(tmp_path / "none.jsonl")]):
        proc = subprocess.run(
            [sys.executable, "-m", "bastion", "waf", "score", *args],
            input=b"",
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 2
        assert proc.stderr.decode().startswith("bastion: error:")
        assert "Traceback" not in proc.stderr.decode()
