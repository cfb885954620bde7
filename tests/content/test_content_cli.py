"""``bastion content ...``: the exact JSON of ``hash``, banks on disk, ``scan``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner, Result

from bastion.cli.content import content_app
from bastion.content import hash_content

ToBytes = Callable[..., bytes]
MakeImage = Callable[..., Image.Image]

app = typer.Typer()
app.add_typer(content_app, name="content")


def run(*argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["content", *argv], env=env, input=stdin)


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def files(tmp_path: Path, make_image: MakeImage, to_bytes: ToBytes) -> dict[str, Path]:
    out = {}
    for name, data in {
        "a.jpg": to_bytes(make_image(40)),
        "b.png": to_bytes(make_image(41), "PNG"),
        "text.txt": b"hello\n",
        "empty.jpg": b"",
        "cut.jpg": to_bytes(make_image(42))[:400],
    }.items():
        p = tmp_path / "in" / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        out[name] = p
    return out


def test_hash_json_lines(files: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    args = [str(files[n]) for n in ("a.jpg", "b.png", "text.txt", "empty.jpg", "cut.jpg")]
    result = run("hash", "--json", *args, str(missing), str(tmp_path / "in"))
    assert result.exit_code == 0, result.output
    lines = json_lines(result)
    assert len(lines) == 7
    for line, path in zip(lines[:2], args[:2], strict=True):
        assert list(line) == ["path", "pdq", "quality", "md5", "sha256"]
        data = Path(path).read_bytes()
        expected = hash_content(data)
        assert line == {
            "path": path,
            "pdq": expected.value("pdq"),
            "quality": 100,
            "md5": hashlib.md5(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        assert isinstance(line["pdq"], str) and len(line["pdq"]) == 64
    errors = [line["error"] for line in lines[2:]]
    assert all(list(line) == ["path", "error"] for line in lines[2:])
    assert "unsupported format: a text file" in str(errors[0])
    assert "empty file" in str(errors[1])
    assert "truncated" in str(errors[2]) or "corrupt" in str(errors[2])
    assert errors[3] == "no such file or directory"
    assert errors[4] == "is a directory"


def test_hash_plain_and_usage(files: dict[str, Path]) -> None:
    result = run("hash", str(files["a.jpg"]), str(files["text.txt"]))
    assert result.exit_code == 0
    pdq, quality, md5, sha256, path = result.stdout.split()
    assert len(pdq) == 64 and quality == "100" and len(md5) == 32 and len(sha256) == 64
    assert path == str(files["a.jpg"])
    assert "text.txt: unsupported format" in result.stderr
    assert run("hash").exit_code == 2


def test_bank_commands(tmp_path: Path, files: dict[str, Path]) -> None:
    banks = tmp_path / "banks"
    env = {"BASTION_BANKS_DIR": str(banks)}
    pdq = hash_content(files["a.jpg"].read_bytes()).value("pdq")
    assert pdq is not None
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(f"hash,id,tags\n{pdq.upper()},77,a;b\nbogus,1,\n")
    result = run("bank", "import", "bad", str(csv_file), env=env)
    assert result.exit_code == 0, result.output
    assert "1 new of 1 rows read, 1 skipped" in result.stdout
    assert "list.csv:3: skipped: not a pdq hash" in result.stderr
    result = run("bank", "import", "fp", "-", "--signal", "md5", "--allow", env=env, stdin="")
    assert result.exit_code == 0
    result = run("bank", "list", "--json", env=env)
    assert json_lines(result) == [
        {"name": "bad", "signal": "pdq", "entries": 1, "removed": 0}
        | {"distance": 31, "enabled": True, "allow": False},
        {"name": "fp", "signal": "md5", "entries": 0, "removed": 0}
        | {"distance": 0, "enabled": True, "allow": True},
    ]
    assert run("bank", "list", "--banks-dir", str(tmp_path / "none")).stdout.startswith("no banks")
    result = run("bank", "export", "bad", env=env)
    assert result.stdout_bytes == f"{pdq},77,,,a b\r\n".encode()
    out = tmp_path / "out.csv"
    assert run("bank", "export", "bad", "-o", str(out), env=env).exit_code == 0
    assert out.read_bytes() == f"{pdq},77,,,a b\r\n".encode()
    result = run("bank", "import", "bad", str(csv_file), "--signal", "md5", env=env)
    assert result.exit_code == 2 and "holds pdq hashes, not md5" in result.stderr
    result = run("bank", "export", "missing", env=env)
    assert result.exit_code == 2 and "no bank named 'missing'" in result.stderr
    assert run("bank", "create", "bad", env=env).exit_code == 2
    assert run("bank", "create", "new", "--distance", "20", env=env).exit_code == 0
    assert run("bank", "disable", "new", env=env).exit_code == 0
    assert run("bank", "remove", "bad", pdq, env=env).stdout.startswith("removed 1 of 1")
    rows = {r["name"]: r for r in json_lines(run("bank", "list", "--json", env=env))}
    assert rows["new"]["enabled"] is False and rows["new"]["distance"] == 20
    assert rows["bad"]["entries"] == 0 and rows["bad"]["removed"] == 1


def test_scan(tmp_path: Path, files: dict[str, Path]) -> None:
    banks = str(tmp_path / "banks")
    data = files["a.jpg"].read_bytes()
    pdq = hash_content(data, fast=True).value("pdq")
    md5 = hashlib.md5(files["b.png"].read_bytes()).hexdigest()
    (tmp_path / "l1.csv").write_text(f"{pdq},id-1,,,csam\n")
    (tmp_path / "l2.csv").write_text(f"md5,{md5}\n")
    assert (
        run("bank", "import", "bad", str(tmp_path / "l1.csv"), "--banks-dir", banks).exit_code == 0
    )
    assert (
        run(
            "bank", "import", "m", str(tmp_path / "l2.csv"), "--signal", "md5", "--banks-dir", banks
        ).exit_code
        == 0
    )
    result = run("scan", str(tmp_path / "in"), "--json", "--banks-dir", banks)
    assert result.exit_code == 0, result.output
    by_name = {Path(str(line["path"])).name: line for line in json_lines(result)}
    assert sorted(by_name) == ["a.jpg", "b.png", "cut.jpg", "empty.jpg"]  # images only
    assert by_name["a.jpg"]["matched"] is True
    assert by_name["a.jpg"]["matches"] == [
        {"bank": "bad", "signal": "pdq", "distance": 0, "hash": pdq}
        | {"indicator_id": "id-1", "descriptor_id": "", "tags": ["csam"], "variant": "original"}
    ]
    assert by_name["b.png"]["matches"][0]["bank"] == "m"  # type: ignore[index]
    assert "error" in by_name["cut.jpg"] and "md5" in by_name["cut.jpg"]
    assert "scanned 4 files: 2 matched" in result.stderr
    result = run(
        "scan", str(tmp_path / "in"), "--all-files", "--fail-on-match", "--banks-dir", banks
    )
    assert result.exit_code == 1
    assert f"MATCH {files['a.jpg']} bank=bad signal=pdq distance=0 ids=id-1" in result.stdout
    assert "text.txt: unsupported format" in result.stderr
    assert run("scan", str(tmp_path / "nowhere"), "--banks-dir", banks).exit_code == 2
