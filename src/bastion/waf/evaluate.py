"""Offline evaluation of a WAF scorer on labeled JSON-lines sets (``bastion waf eval DIR``).

Every ``*.jsonl`` file under a directory is one *set*, named by its path relative to
the directory without the extension. Each line is a request object (see
:meth:`HttpRequest.from_json`) plus ``"label"``: ``clean``, ``sqli``, ``xss`` or ``rce``.
Lines that cannot be read are counted per set as malformed and never abort the run.

A request is *flagged* when its global score is <= 20 (the ``attack`` band). For each set
the evaluation reports false-positive rates on clean requests (global <= 20 and <= 50),
detection rates on attack requests (global <= 20, and the request's own vector head
<= 20), all with Wilson 95% intervals; a confusion matrix of true label against predicted
vector; score histograms; and ROC curves per vector (requests of that vector against clean
requests, decision value ``100 - score``). :func:`write_report` renders the result as
JSON, markdown, PNG charts and a self-contained HTML page.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bastion.waf.request import HttpRequest, RequestFormatError
from bastion.waf.result import ATTACK_MAX, HEADS, LIKELY_ATTACK_MAX, UNSCORED, VECTORS, WafResult

#: Labels in matrix order; index 0 is clean, 1.. follow :data:`VECTORS`.
LABELS: tuple[str, ...] = ("clean", *VECTORS)
#: Two-sided 95% normal quantile used by the Wilson interval.
Z95 = 1.959963984540054
#: Malformed lines kept verbatim (line number and reason) per set; the rest are only counted.
MAX_MALFORMED_EXAMPLES = 20
#: Default number of requests handed to ``score_batch`` at once.
DEFAULT_CHUNK_SIZE = 256

_LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}
_HEAD_INDEX = {name: i for i, name in enumerate(HEADS)}

IntArray = npt.NDArray[np.int64]


class ScorerLike(Protocol):
    """What the evaluation needs from a scorer (``bastion.waf.load_scorer()`` returns one)."""

    @property
    def version(self) -> str:
        """Content-hashed model version id."""
        ...

    def score(self, request: HttpRequest, *, explain: bool = False) -> WafResult:
        """Score one request."""
        ...

    def score_batch(
        self, requests: Sequence[HttpRequest], *, explain: bool = False
    ) -> list[WafResult]:
        """Score several requests; one result per request, in order."""
        ...


# --------------------------------------------------------------------------- statistics


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` trials (``(0, 1)`` when n = 0)."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportion ``k / n`` with its Wilson 95% confidence interval."""

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, k: int, n: int) -> Rate:
        """The rate of ``k`` out of ``n`` (n must be positive)."""
        if n <= 0:
            raise ValueError("a rate needs n > 0")
        lo, hi = wilson_interval(k, n)
        return cls(k=k, n=n, rate=k / n, ci_low=lo, ci_high=hi)

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "n": self.n,
            "rate": self.rate,
            "ci95": [self.ci_low, self.ci_high],
        }


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """One line that could not be used: 1-based line number and the reason."""

    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class SetReport:
    """Everything measured on one set (or on all sets together, named ``"(all)"``)."""

    name: str
    n: int
    label_counts: dict[str, int]
    metrics: dict[str, Rate]
    #: head -> 100 counts, index ``s - 1`` for score ``s`` (1..99, 100 = unscored).
    histograms: dict[str, list[int]]
    #: rows: true label, columns: predicted vector, both in :data:`LABELS` order.
    confusion: list[list[int]]
    n_unscored: int = 0
    n_malformed: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)
    n_score_errors: int = 0
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "n": self.n,
            "label_counts": self.label_counts,
            "n_unscored": self.n_unscored,
            "n_malformed": self.n_malformed,
            "malformed_examples": [m.to_json() for m in self.malformed],
            "n_score_errors": self.n_score_errors,
            "metrics": {k: v.to_json() for k, v in self.metrics.items()},
            "confusion": {"labels": list(LABELS), "matrix": self.confusion},
            "histograms": self.histograms,
        }


@dataclass(frozen=True, slots=True)
class RocCurve:
    """ROC of one head for one vector: requests labeled ``vector`` against clean requests."""

    vector: str
    head: str
    n_pos: int
    n_neg: int
    #: Decision thresholds ``t`` (a request is positive when ``100 - score >= t``), descending.
    thresholds: list[int]
    fpr: list[float]
    tpr: list[float]
    auc: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "vector": self.vector,
            "head": self.head,
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "auc": self.auc,
            "thresholds": self.thresholds,
            "fpr": self.fpr,
            "tpr": self.tpr,
        }


@dataclass(frozen=True, slots=True)
class EvalResult:
    """The outcome of :func:`evaluate_dir`: per-set reports, the total, ROC curves."""

    root: str
    scorer_version: str
    sets: list[SetReport]
    overall: SetReport
    roc: list[RocCurve]
    elapsed_s: float
    chunk_size: int

    @property
    def n_requests(self) -> int:
        return self.overall.n

    @property
    def n_malformed(self) -> int:
        return self.overall.n_malformed

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "scorer_version": self.scorer_version,
            "thresholds": {"flagged": ATTACK_MAX, "likely_attack": LIKELY_ATTACK_MAX},
            "n_requests": self.n_requests,
            "n_malformed": self.n_malformed,
            "elapsed_s": self.elapsed_s,
            "chunk_size": self.chunk_size,
            "overall": self.overall.to_json(),
            "sets": [s.to_json() for s in self.sets],
            "roc": [r.to_json() for r in self.roc],
        }


# --------------------------------------------------------------------------- reading + scoring


@dataclass(slots=True)
class _SetData:
    """Raw per-request outcomes of one set: label index and the four head scores."""

    name: str
    path: str | None
    labels: IntArray
    scores: IntArray  # shape (n, 4), columns in HEADS order
    n_malformed: int
    malformed: list[MalformedLine]
    n_score_errors: int


def _parse_line(raw: bytes) -> tuple[HttpRequest, int]:
    """Decode one JSON line into a request and its label index; raises ``ValueError``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    label = obj.get("label")
    if not isinstance(label, str):
        raise ValueError("missing or non-string 'label'")
    index = _LABEL_INDEX.get(label.strip().lower())
    if index is None:
        raise ValueError(f"unknown label {label[:40]!r} (expected one of {', '.join(LABELS)})")
    try:
        request = HttpRequest.from_json(obj)
    except RequestFormatError as exc:
        raise ValueError(str(exc)) from None
    return request, index


def _result_row(result: WafResult) -> tuple[int, int, int, int]:
    """The four head scores in :data:`HEADS` order (sqli, xss, rce, global)."""
    return (int(result.sqli), int(result.xss), int(result.rce), int(result.score))


def _score_chunk(
    scorer: ScorerLike, requests: list[HttpRequest]
) -> list[tuple[int, int, int, int] | None]:
    """Scores of a chunk; if the batch call fails, score one by one (``None`` = error)."""
    try:
        results = scorer.score_batch(requests)
    except Exception:
        out: list[tuple[int, int, int, int] | None] = []
        for request in requests:
            try:
                out.append(_result_row(scorer.score(request)))
            except Exception:
                out.append(None)
        return out
    if len(results) != len(requests):
        raise RuntimeError(
            f"score_batch returned {len(results)} results for {len(requests)} requests"
        )
    return [_result_row(r) for r in results]


def _read_set(
    scorer: ScorerLike,
    name: str,
    lines: Iterable[bytes],
    *,
    path: str | None,
    chunk_size: int,
    progress: Callable[[str, int], None] | None,
) -> _SetData:
    labels: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    malformed: list[MalformedLine] = []
    n_malformed = 0
    n_errors = 0
    pending: list[HttpRequest] = []
    pending_labels: list[int] = []

    def flush() -> None:
        nonlocal n_errors
        if not pending:
            return
        for label, row in zip(pending_labels, _score_chunk(scorer, pending), strict=True):
            if row is None:
                n_errors += 1
            else:
                labels.append(label)
                rows.append(row)
        if progress is not None:
            progress(name, len(pending))
        pending.clear()
        pending_labels.clear()

    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            request, label = _parse_line(raw)
        except ValueError as exc:
            n_malformed += 1
            if len(malformed) < MAX_MALFORMED_EXAMPLES:
                malformed.append(MalformedLine(lineno, str(exc)[:200]))
            continue
        pending.append(request)
        pending_labels.append(label)
        if len(pending) >= chunk_size:
            flush()
    flush()
    return _SetData(
        name=name,
        path=path,
        labels=np.asarray(labels, dtype=np.int64),
        scores=np.asarray(rows, dtype=np.int64).reshape(-1, len(HEADS)),
        n_malformed=n_malformed,
        malformed=malformed,
        n_score_errors=n_errors,
    )


def _iter_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def find_sets(directory: str | Path) -> list[tuple[str, Path]]:
    """``(set name, file)`` for every ``*.jsonl`` under ``directory`` (or the file itself)."""
    root = Path(directory)
    if root.is_file():
        return [(root.stem, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"no such directory: {root}")
    files = sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    return [(p.relative_to(root).with_suffix("").as_posix(), p) for p in files]


# --------------------------------------------------------------------------- metrics


def predicted_vectors(scores: IntArray) -> IntArray:
    """Predicted label index per row: the lowest vector head if <= 20, else clean (0).

    Ties go to the first vector in :data:`VECTORS` order.
    """
    vec = scores[:, : len(VECTORS)]
    if vec.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argmin(vec, axis=1)
    lowest = vec[np.arange(vec.shape[0]), best]
    return np.where(lowest <= ATTACK_MAX, best + 1, 0).astype(np.int64)


def confusion_matrix(labels: IntArray, scores: IntArray) -> list[list[int]]:
    """Counts of (true label, predicted vector), both indexed in :data:`LABELS` order."""
    k = len(LABELS)
    pred = predicted_vectors(scores)
    flat = np.bincount(labels * k + pred, minlength=k * k)
    return [[int(x) for x in flat[i * k : (i + 1) * k]] for i in range(k)]


def _metrics(labels: IntArray, scores: IntArray) -> dict[str, Rate]:
    glob = scores[:, _HEAD_INDEX["global"]]
    out: dict[str, Rate] = {}
    clean = labels == 0
    n_clean = int(clean.sum())
    if n_clean:
        out["fpr@global<=20"] = Rate.of(int((glob[clean] <= ATTACK_MAX).sum()), n_clean)
        out["fpr@global<=50"] = Rate.of(int((glob[clean] <= LIKELY_ATTACK_MAX).sum()), n_clean)
    attack = labels > 0
    n_attack = int(attack.sum())
    if n_attack:
        own = scores[np.arange(len(labels)), np.clip(labels - 1, 0, None)]
        out["detect@global<=20"] = Rate.of(int((glob[attack] <= ATTACK_MAX).sum()), n_attack)
        out["detect@own_head<=20"] = Rate.of(int((own[attack] <= ATTACK_MAX).sum()), n_attack)
        present = [i for i in range(1, len(LABELS)) if (labels == i).any()]
        if len(present) > 1:
            for i in present:
                sel = labels == i
                n_sel = int(sel.sum())
                vec = LABELS[i]
                out[f"detect[{vec}]@global<=20"] = Rate.of(
                    int((glob[sel] <= ATTACK_MAX).sum()), n_sel
                )
                out[f"detect[{vec}]@{vec}<=20"] = Rate.of(
                    int((scores[sel, i - 1] <= ATTACK_MAX).sum()), n_sel
                )
    return out


def _histograms(scores: IntArray) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for j, head in enumerate(HEADS):
        col = np.clip(scores[:, j], 1, UNSCORED) - 1
        out[head] = [int(x) for x in np.bincount(col, minlength=UNSCORED)[:UNSCORED]]
    return out


def _set_report(data: _SetData) -> SetReport:
    counts = np.bincount(data.labels, minlength=len(LABELS))
    return SetReport(
        name=data.name,
        path=data.path,
        n=len(data.labels),
        label_counts={LABELS[i]: int(counts[i]) for i in range(len(LABELS))},
        metrics=_metrics(data.labels, data.scores),
        histograms=_histograms(data.scores),
        confusion=confusion_matrix(data.labels, data.scores),
        n_unscored=int((data.scores[:, _HEAD_INDEX["global"]] >= UNSCORED).sum()),
        n_malformed=data.n_malformed,
        malformed=list(data.malformed),
        n_score_errors=data.n_score_errors,
    )


def roc_curve(vector: str, head: str, pos_scores: IntArray, neg_scores: IntArray) -> RocCurve:
    """ROC over integer scores with decision value ``100 - score``; AUC by the trapezoid rule.

    Ties between a positive and a negative count one half, as in the Mann-Whitney statistic.
    """
    n_pos, n_neg = len(pos_scores), len(neg_scores)
    if n_pos == 0 or n_neg == 0:
        return RocCurve(vector, head, n_pos, n_neg, [], [], [], None)
    pos_dec = UNSCORED - np.clip(pos_scores, 0, UNSCORED)
    neg_dec = UNSCORED - np.clip(neg_scores, 0, UNSCORED)
    pos_hist = np.bincount(pos_dec, minlength=UNSCORED + 1)
    neg_hist = np.bincount(neg_dec, minlength=UNSCORED + 1)
    thresholds = [t for t in range(UNSCORED, -1, -1) if pos_hist[t] or neg_hist[t]]
    tp = np.cumsum(pos_hist[::-1])[::-1]  # tp[t] = #positives with decision >= t
    fp = np.cumsum(neg_hist[::-1])[::-1]
    tpr = [0.0] + [float(tp[t]) / n_pos for t in thresholds]
    fpr = [0.0] + [float(fp[t]) / n_neg for t in thresholds]
    auc = sum((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2 for i in range(1, len(fpr)))
    return RocCurve(vector, head, n_pos, n_neg, [UNSCORED + 1, *thresholds], fpr, tpr, auc)


def _roc_curves(labels: IntArray, scores: IntArray) -> list[RocCurve]:
    out: list[RocCurve] = []
    clean = labels == 0
    for i, vector in enumerate(VECTORS, start=1):
        pos = labels == i
        for head in (vector, "global"):
            j = _HEAD_INDEX[head]
            out.append(roc_curve(vector, head, scores[pos, j], scores[clean, j]))
    return out


# --------------------------------------------------------------------------- entry points


def evaluate_lines(
    scorer: ScorerLike,
    sets: Iterable[tuple[str, Iterable[bytes]]],
    *,
    root: str = "",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> EvalResult:
    """Evaluate ``(set name, JSON lines)`` pairs; the engine behind :func:`evaluate_dir`."""
    return _evaluate(
        scorer,
        ((name, lines, None) for name, lines in sets),
        root=root,
        chunk_size=chunk_size,
        progress=progress,
    )


def evaluate_dir(
    scorer: ScorerLike,
    directory: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> EvalResult:
    """Score every labeled ``*.jsonl`` set under ``directory`` and compute all metrics.

    ``progress(set_name, n_scored)`` is called after each chunk. Raises
    :class:`FileNotFoundError` when the directory does not exist and :class:`ValueError`
    when it holds no ``*.jsonl`` file.
    """
    found = find_sets(directory)
    if not found:
        raise ValueError(f"no *.jsonl files under {directory}")
    return _evaluate(
        scorer,
        ((name, _iter_lines(path), str(path)) for name, path in found),
        root=str(directory),
        chunk_size=chunk_size,
        progress=progress,
    )


def _evaluate(
    scorer: ScorerLike,
    sets: Iterable[tuple[str, Iterable[bytes], str | None]],
    *,
    root: str,
    chunk_size: int,
    progress: Callable[[str, int], None] | None,
) -> EvalResult:
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    start = time.perf_counter()
    datas = [
        _read_set(scorer, name, lines, path=path, chunk_size=chunk_size, progress=progress)
        for name, lines, path in sets
    ]
    elapsed = time.perf_counter() - start
    all_labels = np.concatenate([d.labels for d in datas]) if datas else np.zeros(0, np.int64)
    all_scores = (
        np.concatenate([d.scores for d in datas])
        if datas
        else np.zeros((0, len(HEADS)), dtype=np.int64)
    )
    overall = _set_report(
        _SetData(
            name="(all)",
            path=root or None,
            labels=all_labels.astype(np.int64),
            scores=all_scores.astype(np.int64),
            n_malformed=sum(d.n_malformed for d in datas),
            malformed=[],
            n_score_errors=sum(d.n_score_errors for d in datas),
        )
    )
    return EvalResult(
        root=root,
        scorer_version=str(scorer.version),
        sets=[_set_report(d) for d in datas],
        overall=overall,
        roc=_roc_curves(all_labels, all_scores),
        elapsed_s=elapsed,
        chunk_size=chunk_size,
    )


# --------------------------------------------------------------------------- rendering


def _pct(x: float) -> str:
    return f"{100.0 * x:.2f}%"


def _ci(rate: Rate) -> str:
    return f"[{_pct(rate.ci_low)}, {_pct(rate.ci_high)}]"


def _metric_rows(result: EvalResult) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    for report in [*result.sets, result.overall]:
        if not report.metrics:
            rows.append((report.name, str(report.n), "-", "-", "-"))
        for metric, rate in report.metrics.items():
            rows.append(
                (
                    report.name,
                    str(report.n),
                    metric,
                    f"{_pct(rate.rate)} ({rate.k}/{rate.n})",
                    _ci(rate),
                )
            )
    return rows


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def _auc_text(curve: RocCurve) -> str:
    return "n/a" if curve.auc is None else f"{curve.auc:.4f}"


def summary_markdown(result: EvalResult) -> str:
    """The markdown summary: metrics table, malformed counts, confusion matrix, AUCs."""
    out = [
        f"# WAF evaluation: {result.root or '(inline sets)'}",
        "",
        f"Model `{result.scorer_version}`; {result.n_requests} requests scored, "
        f"{result.n_malformed} malformed lines skipped. A request is flagged at score <= 20.",
        "",
        *_md_table(["set", "n", "metric", "rate", "95% CI"], _metric_rows(result)),
        "",
    ]
    bad = [s for s in result.sets if s.n_malformed or s.n_score_errors]
    if bad:
        out += ["## Malformed lines", ""]
        out += _md_table(
            ["set", "malformed", "score errors", "first examples"],
            [
                (
                    s.name,
                    str(s.n_malformed),
                    str(s.n_score_errors),
                    "; ".join(f"line {m.line}: {m.reason}" for m in s.malformed[:3]),
                )
                for s in bad
            ],
        )
        out.append("")
    out += ["## Confusion (rows: true label, columns: predicted vector)", ""]
    out += _md_table(
        ["true \\ predicted", *LABELS],
        [(LABELS[i], *(str(c) for c in row)) for i, row in enumerate(result.overall.confusion)],
    )
    out += ["", "## ROC AUC (vector vs clean, decision value 100 - score)", ""]
    out += _md_table(
        ["vector", "head", "n attack", "n clean", "AUC"],
        [(c.vector, c.head, str(c.n_pos), str(c.n_neg), _auc_text(c)) for c in result.roc],
    )
    return "\n".join(out) + "\n"


def format_summary(result: EvalResult) -> str:
    """A plain-text summary for the terminal (aligned columns)."""
    header = ("set", "n", "metric", "rate (k/n)", "95% CI")
    rows = _metric_rows(result)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    lines = [
        f"model {result.scorer_version}: {result.n_requests} requests in "
        f"{len(result.sets)} set(s), {result.n_malformed} malformed line(s), "
        f"{result.elapsed_s:.2f}s",
        "",
        fmt(header),
        fmt(tuple("-" * w for w in widths)),
        *(fmt(r) for r in rows),
    ]
    for s in result.sets:
        if s.n_malformed or s.n_score_errors:
            first = f" (first: line {s.malformed[0].line}: {s.malformed[0].reason})"
            lines.append(
                f"warning: {s.name}: {s.n_malformed} malformed line(s), "
                f"{s.n_score_errors} scoring error(s)" + (first if s.malformed else "")
            )
    lines += ["", "confusion (rows true, columns predicted): " + " ".join(LABELS)]
    for i, row in enumerate(result.overall.confusion):
        lines.append(f"  {LABELS[i]:<6} " + " ".join(f"{c:>6}" for c in row))
    aucs = ", ".join(f"{c.vector}/{c.head} {_auc_text(c)}" for c in result.roc)
    lines += ["", f"ROC AUC: {aucs}"]
    return "\n".join(lines) + "\n"


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "set"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _write_charts(result: EvalResult, chart_dir: Path) -> list[tuple[str, Path]]:
    """Render histogram and ROC PNGs; returns ``(caption, path)`` pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chart_dir.mkdir(parents=True, exist_ok=True)
    charts: list[tuple[str, Path]] = []
    taken: set[str] = set()
    x = np.arange(1, UNSCORED + 1)
    for report in result.sets:
        fig, axes = plt.subplots(1, len(HEADS), figsize=(16, 3.2), sharey=True)
        for ax, head in zip(axes, HEADS, strict=True):
            ax.bar(x, report.histograms[head], width=1.0, color="#3465a4")
            for edge in (ATTACK_MAX + 0.5, LIKELY_ATTACK_MAX + 0.5, 80.5):
                ax.axvline(edge, color="#cc0000", linewidth=0.8, linestyle="--")
            ax.set_title(head)
            if any(report.histograms[head]):
                ax.set_yscale("log")
            ax.set_xlim(0.5, UNSCORED + 0.5)
            ax.set_xlabel("score")
        axes[0].set_ylabel("requests (log)")
        fig.suptitle(f"{report.name} (n={report.n})")
        fig.tight_layout()
        path = chart_dir / f"hist_{_slug(report.name, taken)}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        charts.append((f"Score histograms: {report.name}", path))
    for vector in VECTORS:
        curves = [c for c in result.roc if c.vector == vector]
        fig, ax = plt.subplots(figsize=(4.8, 4.4))
        for curve in curves:
            if curve.auc is not None:
                ax.plot(curve.fpr, curve.tpr, label=f"{curve.head} head, AUC {curve.auc:.4f}")
        ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle=":")
        n_pos = curves[0].n_pos if curves else 0
        n_neg = curves[0].n_neg if curves else 0
        ax.set_title(f"ROC {vector} ({n_pos} attack vs {n_neg} clean)")
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        if any(c.auc is not None for c in curves):
            ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        path = chart_dir / f"roc_{vector}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        charts.append((f"ROC: {vector}", path))
    return charts


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "th{background:#eee}figure{margin:1em 0}img{max-width:100%}"
)


def _html_report(result: EvalResult, charts: Sequence[tuple[str, Path]]) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>WAF evaluation {html.escape(result.scorer_version)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>WAF evaluation: {html.escape(result.root or '(inline sets)')}</h1>",
        f"<p>Model <code>{html.escape(result.scorer_version)}</code>; "
        f"{result.n_requests} requests scored, {result.n_malformed} malformed lines skipped. "
        "A request is flagged at score &lt;= 20.</p>",
        "<h2>Rates</h2>",
        _html_table(["set", "n", "metric", "rate (k/n)", "95% CI"], _metric_rows(result)),
        "<h2>Label mix and malformed lines</h2>",
        _html_table(
            ["set", "n", *LABELS, "unscored", "malformed", "score errors"],
            [
                (
                    s.name,
                    str(s.n),
                    *(str(s.label_counts[lab]) for lab in LABELS),
                    str(s.n_unscored),
                    str(s.n_malformed),
                    str(s.n_score_errors),
                )
                for s in [*result.sets, result.overall]
            ],
        ),
        "<h2>Confusion (rows: true label, columns: predicted vector)</h2>",
        _html_table(
            ["true \\ predicted", *LABELS],
            [(LABELS[i], *map(str, row)) for i, row in enumerate(result.overall.confusion)],
        ),
        "<h2>ROC AUC</h2>",
        _html_table(
            ["vector", "head", "n attack", "n clean", "AUC"],
            [(c.vector, c.head, str(c.n_pos), str(c.n_neg), _auc_text(c)) for c in result.roc],
        ),
        "<h2>Charts</h2>",
    ]
    for caption, path in charts:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(caption, quote=True)}' "
            f"src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(result: EvalResult, out_dir: Path) -> Path:
    """Write ``report.json``, ``summary.md``, ``charts/*.png`` and ``report.html``.

    Needs matplotlib (imported here only). Returns the path of ``report.html``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(
        json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    (out_dir / "summary.md").write_text(summary_markdown(result), encoding="utf-8")
    charts = _write_charts(result, out_dir / "charts")
    html_path = out_dir / "report.html"
    html_path.write_text(_html_report(result, charts), encoding="utf-8")
    return html_path
