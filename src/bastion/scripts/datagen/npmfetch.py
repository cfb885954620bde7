"""Fetch the benign npm corpus: ``npm pack`` each pinned package and unpack it.

Only the package tarballs are downloaded (no dependencies, no install scripts) into
``~/.cache/bastion/js-benign`` (``$BASTION_JS_BENIGN`` for the unpacked tree). A version
that does not resolve is replaced by the nearest release of the same major version, as
the dataset's README asks, and the substitution is reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from bastion.scripts.datagen.corpus import benign_root, package_name, read_package_list

Log = Callable[[str], None]


def _npm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Fixed program, arguments from the pinned package list; never runs package scripts.
    return subprocess.run(  # noqa: S603
        ["npm", *args],  # noqa: S607
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _version_key(v: str) -> tuple[int, ...]:
    core = v.split("-", 1)[0]
    try:
        return tuple(int(x) for x in core.split("."))
    except ValueError:
        return (-1,)


def nearest_version(wanted: str, available: list[str]) -> str | None:
    """The release of ``wanted``'s major version closest to it (pre-releases ignored)."""
    major = _version_key(wanted)[0]
    same = [v for v in available if "-" not in v and _version_key(v)[0] == major]
    if not same:
        return None
    w = _version_key(wanted)
    above = sorted((v for v in same if _version_key(v) >= w), key=_version_key)
    if above:
        return above[0]
    return sorted(same, key=_version_key)[-1]


def fetch(shared_js: Path, log: Log, root: Path | None = None) -> dict[str, str]:
    """Download and unpack every listed package; returns substitutions made."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed: it is needed to fetch the benign corpus")
    dest = root or benign_root()
    tgz = dest.parent / "tgz"
    dest.mkdir(parents=True, exist_ok=True)
    tgz.mkdir(parents=True, exist_ok=True)
    substituted: dict[str, str] = {}
    for spec in read_package_list(shared_js):
        name = package_name(spec)
        version = spec[len(name) + 1 :]
        out_dir = dest / name.replace("/", "__")
        if out_dir.is_dir():
            continue
        res = _npm("pack", "--ignore-scripts", "--silent", f"{name}@{version}", cwd=tgz)
        if res.returncode != 0:
            view = _npm("view", name, "versions", "--json", cwd=tgz)
            try:
                versions = json.loads(view.stdout) if view.returncode == 0 else []
            except json.JSONDecodeError:
                versions = []
            alt = nearest_version(version, versions if isinstance(versions, list) else [])
            if alt is None:
                log(f"cannot fetch {spec}: {res.stderr.strip()[:200]}")
                continue
            substituted[spec] = f"{name}@{alt}"
            log(f"{spec} does not resolve; using {name}@{alt}")
            res = _npm("pack", "--ignore-scripts", "--silent", f"{name}@{alt}", cwd=tgz)
            if res.returncode != 0:
                log(f"cannot fetch {name}@{alt}: {res.stderr.strip()[:200]}")
                continue
        archive = tgz / res.stdout.strip().splitlines()[-1]
        tmp = out_dir.with_name(out_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")  # no links outside, no special files
        tmp.rename(out_dir)
        log(f"fetched {spec}")
    return substituted
