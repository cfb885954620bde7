"""Run the pinned JavaScript transformers (javascript-obfuscator, terser) on code as text.

The tools live in ``tools/js`` (``package.json`` + ``package-lock.json``; install them with
``npm ci --ignore-scripts`` there). They parse and rewrite the text they are given; the
code is never run. Outputs are cached on disk by (tool versions, mode, seed, input hash),
so rebuilding the training set does not redo the slow obfuscations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

MODES = ("obf-default", "obf-strings", "obf-heavy", "obf-unicode", "minify", "mangle", "beautify")
#: Inputs larger than this are not sent to the obfuscator (it is slow on big files).
MAX_INPUT_CHARS = 120_000


def tools_dir() -> Path:
    """``tools/js`` of the checkout (``$BASTION_JS_TOOLS`` overrides)."""
    env = os.environ.get("BASTION_JS_TOOLS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "tools" / "js"


def cache_dir() -> Path:
    env = os.environ.get("BASTION_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "bastion"
    return base / "js-transforms"


def available() -> bool:
    d = tools_dir()
    return (
        shutil.which("node") is not None and (d / "node_modules" / "javascript-obfuscator").is_dir()
    )


def _tools_version(d: Path) -> str:
    lock = d / "package-lock.json"
    script = d / "transform.js"
    h = hashlib.sha256()
    for p in (lock, script):
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()[:12]


def transform_many(
    jobs: Sequence[tuple[str, str, int]],
    log: Callable[[str], None] | None = None,
    timeout_s: float = 3600.0,
) -> list[str | None]:
    """Transform ``(code, mode, seed)`` jobs; ``None`` where the tool failed."""
    d = tools_dir()
    version = _tools_version(d)
    cdir = cache_dir() / version
    cdir.mkdir(parents=True, exist_ok=True)
    results: list[str | None] = [None] * len(jobs)
    todo: list[int] = []
    paths: list[Path] = []
    for i, (code, mode, seed) in enumerate(jobs):
        key = hashlib.sha256(f"{mode}\0{seed}\0".encode() + code.encode("utf-8", "surrogatepass"))
        p = cdir / f"{key.hexdigest()}.json"
        paths.append(p)
        if p.exists():
            got = json.loads(p.read_text(encoding="utf-8"))
            results[i] = got.get("code")
        elif len(code) <= MAX_INPUT_CHARS:
            todo.append(i)
    if not todo:
        return results
    if not available():
        raise RuntimeError(
            f"javascript tools are not installed: run `npm ci --ignore-scripts` in {d}"
        )
    if log:
        log(f"js tools: {len(todo)} transforms to run ({len(jobs) - len(todo)} cached or skipped)")
    # The command is fixed (node on the pinned transform script); inputs go through stdin.
    proc = subprocess.Popen(  # noqa: S603
        ["node", "--max-old-space-size=2048", str(d / "transform.js")],  # noqa: S607
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            for i in todo:
                job = {"id": i, "code": jobs[i][0], "mode": jobs[i][1], "seed": jobs[i][2]}
                stdin.write((json.dumps(job) + "\n").encode("utf-8", "surrogatepass"))
            stdin.close()
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = 0
    deadline = time.monotonic() + timeout_s
    # Results are cached as they arrive, so an interrupted run keeps its work.
    for raw in proc.stdout:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            continue
        i = obj.get("id")
        if not isinstance(i, int) or not 0 <= i < len(jobs):
            continue
        code = obj.get("code")
        results[i] = code if isinstance(code, str) else None
        paths[i].write_text(json.dumps({"code": results[i]}), encoding="utf-8")
        done += 1
        if log and done % 200 == 0:
            log(f"js tools: {done}/{len(todo)}")
        if time.monotonic() > deadline:
            proc.kill()
            break
    proc.wait()
    writer.join(timeout=5)
    return results
