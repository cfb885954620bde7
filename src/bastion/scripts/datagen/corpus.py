"""The labeled corpus for training and evaluation.

* **real malicious**: ``shared/datasets/js`` (``MANIFEST.jsonl``); the group of a sample
  is its family, so evaluation can hold whole families out.
* **benign**: the ``.js/.mjs/.cjs`` files of the npm packages in
  ``benign_npm_packages.txt``, unpacked (``npm pack``, no install scripts) under
  ``~/.cache/bastion/js-benign/pkgs/<name with / as __>/``; the group is the package.
* **generated**: skimmers, miners, other malware shapes and benign hard negatives from
  this package's generators, alone, injected into benign library files (group: the host
  package, so a held-out package takes its injected copies with it) or in HTML pages.
* **variants**: javascript-obfuscator, terser and hand-rolled encoders applied to real
  and generated, benign and malicious code alike; a variant keeps its parent's group.

Samples are read as bytes and never executed.
"""

from __future__ import annotations

import json
import os
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from bastion.scripts.datagen import benign, encoders, inject, jstools, malware, miners, skimmers
from bastion.scripts.datagen.lite_obf import lite_obfuscate
from bastion.scripts.source import extract_html_scripts, is_html

Log = Callable[[str], None]
LABELS: tuple[str, ...] = ("benign", "magecart", "cryptomining", "malware")
JS_SUFFIXES = (".js", ".mjs", ".cjs")


@dataclass(frozen=True)
class Item:
    """One training or evaluation script."""

    id: str
    text: bytes
    label: str
    group: str
    origin: str  # "real", "generated", "injected", or "variant:<mode>"
    parent: str = ""  # id of the script a variant was made from
    family: str = ""

    @property
    def testable(self) -> bool:
        """Real scripts (and their variants) are what held-out metrics are computed on."""
        return self.origin == "real" or (self.origin.startswith("variant:") and self.parent != "")


@dataclass(frozen=True)
class CorpusConfig:
    """Sizes of each part of the corpus (recorded in the model's metadata)."""

    seed: int = 20261123
    files_per_package: int = 80
    bytes_per_package: int = 6_000_000
    max_file_bytes: int = 2_000_000
    skimmers: int = 1500
    skimmers_injected: int = 1500
    miners: int = 700
    miners_injected: int = 300
    malware: int = 600
    malware_injected: int = 300
    benign_generated: int = 1400
    #: Share of generated malicious scripts passed through the light (hand-rolled style)
    #: obfuscator, and of generated benign ones: random-case names, split strings and junk
    #: statements are rare in legitimate code, common in droppers and kits.
    lite_obfuscated: float = 0.45
    lite_obfuscated_benign: float = 0.1
    html_pages: int = 400
    benign_obfuscated: int = 1200
    benign_minified: int = 400
    benign_wrapped: int = 500
    malicious_wrapped_per_label: int = 400
    malicious_variants_per_sample: int = 3
    malware_variant_samples: int = 400
    generated_variants: int = 1600
    variant_max_chars: int = 60_000
    use_js_tools: bool = True


@dataclass
class Corpus:
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> None:
        self.items.append(item)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def benign_root() -> Path:
    env = os.environ.get("BASTION_JS_BENIGN")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "bastion" / "js-benign" / "pkgs"


def read_package_list(shared_js: Path) -> list[str]:
    """``name@version`` lines of ``benign_npm_packages.txt``."""
    out = []
    for line in (shared_js / "benign_npm_packages.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def package_name(spec: str) -> str:
    return spec.rsplit("@", 1)[0] if spec.rfind("@") > 0 else spec


def _stable_shuffle(items: list[Path], key: str) -> list[Path]:
    return sorted(items, key=lambda p: zlib.crc32(f"{key}/{p}".encode()))


def benign_files(
    shared_js: Path, config: CorpusConfig, root: Path | None = None
) -> Iterator[tuple[str, Path]]:
    """(package, file) pairs of the benign npm corpus, capped per package."""
    base = root or benign_root()
    for spec in read_package_list(shared_js):
        name = package_name(spec)
        d = base / name.replace("/", "__")
        if not d.is_dir():
            continue
        files = [
            p
            for p in d.rglob("*")
            if p.suffix in JS_SUFFIXES
            and p.is_file()
            and 32 <= p.stat().st_size <= config.max_file_bytes
        ]
        total = 0
        for p in _stable_shuffle(sorted(files), name)[: config.files_per_package]:
            size = p.stat().st_size
            if total + size > config.bytes_per_package:
                continue
            total += size
            yield name, p


def real_samples(shared_js: Path) -> Iterator[Item]:
    """The labeled malicious samples of ``shared/datasets/js``."""
    with open(shared_js / "MANIFEST.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            data = (shared_js / row["path"]).read_bytes()
            yield Item(
                id="real:" + row["sha256"][:16],
                text=data,
                label=row["label"],
                group=f"fam:{row['label']}/{row['family']}",
                origin="real",
                family=row["family"],
            )


def _js_text(item: Item) -> str:
    data = item.text
    if is_html(data.lstrip(b"\xef\xbb\xbf")):
        data = extract_html_scripts(data.lstrip(b"\xef\xbb\xbf"))
    return data.decode("utf-8", "replace")


def build(shared_js: Path, config: CorpusConfig, log: Log = lambda m: None) -> Corpus:
    """Assemble the whole corpus deterministically from ``config.seed``."""
    rng = random.Random(config.seed)
    corpus = Corpus()
    reals = list(real_samples(shared_js))
    for it in reals:
        corpus.add(it)
    log(f"real malicious samples: {len(reals)}")

    libs: list[Item] = []
    for pkg, path in benign_files(shared_js, config):
        data = path.read_bytes()
        rel = path.relative_to(benign_root()).as_posix()
        it = Item(
            id="npm:" + rel,
            text=data,
            label="benign",
            group="npm:" + pkg,
            origin="real",
            family=pkg,
        )
        corpus.add(it)
        libs.append(it)
    if not libs:
        raise RuntimeError(
            f"no benign npm files under {benign_root()}: fetch them with "
            "`bastion scripts train --fetch-benign` (npm pack, no install scripts)"
        )
    log(f"benign npm files: {len(libs)} from {len({i.group for i in libs})} packages")
    hosts = [it for it in libs if 2_000 <= len(it.text) <= 100_000]

    def make_one(make: Callable[[random.Random], str], label: str) -> str:
        code = make(rng)
        rate = config.lite_obfuscated_benign if label == "benign" else config.lite_obfuscated
        if rng.random() < rate:
            code = lite_obfuscate(code, rng)
        return code

    def gen(
        kind: str, label: str, make: Callable[[random.Random], str], n: int, injected: int
    ) -> None:
        for k in range(n):
            text = make_one(make, label).encode()
            corpus.add(Item(f"gen:{kind}:{k}", text, label, f"gen:{kind}", "generated"))
        for k in range(injected):
            host = rng.choice(hosts)
            code = inject.inject(host.text.decode("utf-8", "replace"), make_one(make, label), rng)
            corpus.add(Item(f"inj:{kind}:{k}", code.encode(), label, host.group, "injected"))

    gen("skimmer", "magecart", skimmers.generate, config.skimmers, config.skimmers_injected)
    gen("miner", "cryptomining", miners.generate, config.miners, config.miners_injected)
    gen("malware", "malware", malware.generate, config.malware, config.malware_injected)
    gen("benign", "benign", benign.generate, config.benign_generated, 0)
    for k in range(config.html_pages):
        scripts = [benign.generate(rng) for _ in range(rng.randint(1, 3))]
        small = [h for h in rng.sample(hosts, 3) if len(h.text) < 20_000]
        group = "gen:html"
        if small and rng.random() < 0.5:
            scripts.append(small[0].text.decode("utf-8", "replace"))
            group = small[0].group
        page = benign.html_page(rng, scripts)
        corpus.add(Item(f"gen:html:{k}", page.encode(), "benign", group, "generated"))
    # Malicious generated code in HTML pages too, so the container is not the signal.
    for k in range(config.html_pages // 2):
        label, make = rng.choice(
            [
                ("magecart", skimmers.generate),
                ("cryptomining", miners.generate),
                ("malware", malware.generate),
            ]
        )
        page = benign.html_page(rng, [benign.generate(rng), make(rng)])
        corpus.add(Item(f"gen:html-mal:{k}", page.encode(), label, "gen:html-mal", "generated"))
    log(f"with generated scripts: {len(corpus)}")

    _add_variants(corpus, hosts, libs, config, rng, log)
    return corpus


def _add_variants(
    corpus: Corpus,
    hosts: list[Item],
    libs: list[Item],
    config: CorpusConfig,
    rng: random.Random,
    log: Log,
) -> None:
    jobs: list[tuple[str, str, int]] = []
    parents: list[Item] = []
    wrapped: list[Item] = []
    small_libs = [it for it in libs if 200 <= len(it.text) <= config.variant_max_chars]
    obf_modes = ("obf-default", "obf-strings", "obf-heavy", "obf-unicode")
    for it in rng.sample(small_libs, min(config.benign_obfuscated, len(small_libs))):
        jobs.append((_js_text(it), rng.choice(obf_modes), rng.randint(1, 10_000)))
        parents.append(it)
    unminified = [it for it in small_libs if it.text.count(b"\n") > len(it.text) / 200]
    for it in rng.sample(unminified, min(config.benign_minified, len(unminified))):
        jobs.append((_js_text(it), rng.choice(("minify", "mangle")), 0))
        parents.append(it)
    reals = [it for it in corpus.items if it.origin == "real" and it.label != "benign"]
    malware_reals = [it for it in reals if it.label == "malware"]
    chosen = [it for it in reals if it.label != "malware"]
    chosen += rng.sample(malware_reals, min(config.malware_variant_samples, len(malware_reals)))
    for it in chosen:
        text = _js_text(it)
        if not text.strip() or len(text) > config.variant_max_chars:
            continue
        n = config.malicious_variants_per_sample if it.label != "malware" else 1
        modes = rng.sample(("obf-default", "obf-strings", "obf-heavy", "obf-unicode", "minify"), n)
        for mode in modes:
            jobs.append((text, mode, rng.randint(1, 10_000)))
            parents.append(it)
    generated = [it for it in corpus.items if it.origin in ("generated", "injected")]
    generated = [it for it in generated if len(it.text) <= config.variant_max_chars]
    # The same number per label, so no transform becomes the mark of one class.
    per_label = config.generated_variants // len(LABELS)
    for label in LABELS:
        pool = [it for it in generated if it.label == label]
        for it in rng.sample(pool, min(per_label, len(pool))):
            jobs.append((_js_text(it), rng.choice((*obf_modes, "minify")), rng.randint(1, 10_000)))
            parents.append(it)

    # Hand-rolled wrappers: decodable ones on everything, the cipher on malicious only.
    wrap_pool = [it for it in small_libs if len(it.text) <= 30_000]
    for it in rng.sample(wrap_pool, min(config.benign_wrapped, len(wrap_pool))):
        enc = rng.choice(encoders.DECODABLE)
        wrapped.append(_variant(it, enc(_js_text(it), rng), "wrap:" + enc.__name__))
    for label in LABELS[1:]:
        mal_pool = [it for it in corpus.items if it.label == label and len(it.text) <= 30_000]
        for it in rng.sample(mal_pool, min(config.malicious_wrapped_per_label, len(mal_pool))):
            enc = rng.choice((*encoders.DECODABLE, encoders.cipher, encoders.cipher))
            wrapped.append(_variant(it, enc(_js_text(it), rng), "wrap:" + enc.__name__))
    for w in wrapped:
        corpus.add(w)
    log(f"hand-wrapped variants: {len(wrapped)}")

    if not config.use_js_tools:
        return
    outs = jstools.transform_many(jobs, log=log)
    ok = 0
    for (_, mode, _), parent, out in zip(jobs, parents, outs, strict=True):
        if out:
            corpus.add(_variant(parent, out, mode))
            ok += 1
    log(f"tool variants: {ok} of {len(jobs)}")


def _variant(parent: Item, text: str, mode: str) -> Item:
    return replace(
        parent,
        id=f"{parent.id}~{mode}~{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}",
        text=text.encode("utf-8", "surrogatepass"),
        origin="variant:" + mode,
        parent=parent.id if parent.origin == "real" else "",
    )
