"""Replaying logged requests under ``exclude`` rules: what a parameter exclusion would have
let through, and the exclusion proposed from a false positive.

Logged requests are rebuilt from their rows (credentials were never logged, cookies and
bodies may have been cut by the capture options), scored again without the excluded
parameters by the active model, and decided again by the candidate rules. The figures are
therefore close to, not exactly, what live traffic would have given; answers say so.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bastion.analytics.record import Explainer
from bastion.rules import RuleContext, RuleSet
from bastion.waf.exclusion import without_params
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult

#: Most logged requests one replay scores again.
REPLAY_MAX = 2_000
_FLAGGED = frozenset({"block", "challenge"})


def logged_request(row: Mapping[str, Any]) -> HttpRequest:
    """The request a logged row keeps (``headers`` JSON, ``body_b64``)."""
    uri = row["path"] + (f"?{row['query']}" if row["query"] else "")
    headers = orjson.loads(row["headers"]) if row["headers"] else []
    return HttpRequest(
        row["method"],
        uri,
        tuple((str(k), str(v)) for k, v in headers),
        base64.b64decode(row["body_b64"] or ""),
    )


@dataclass
class Replay:
    """What a rule set with ``exclude`` rules does to logged requests."""

    #: Rows an exclusion applies to (its expression matches and the parameter is present).
    matched: int = 0
    #: New scores of those rows, by row id.
    rescored: dict[str, WafResult] = field(default_factory=dict)
    #: Rows that were blocked or challenged when logged and would now be allowed.
    let_through: int = 0
    #: Rows beyond :data:`REPLAY_MAX` that were not scored again.
    skipped: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, model: str) -> dict[str, Any]:
        """The replay as the API answers it."""
        return {
            "model": model,
            "matched": self.matched,
            "rescored": len(self.rescored),
            "let_through": self.let_through,
            "skipped": self.skipped,
            "approximate": True,
            "examples": self.examples,
        }


def replay(
    rules: RuleSet, scorer: Explainer, rows: Sequence[Mapping[str, Any]], examples: int = 10
) -> Replay:
    """Score ``rows`` (full logged rows) again without the parameters ``rules`` exclude."""
    out = Replay()
    todo: list[tuple[Mapping[str, Any], HttpRequest]] = []
    for row in rows:
        params = rules.excluded_params(row["method"], row["host"], row["path"])
        if not params:
            continue
        request = logged_request(row)
        stripped = without_params(request, params)
        if stripped is request:
            continue  # the parameter is not in this request
        out.matched += 1
        if len(todo) < REPLAY_MAX:
            todo.append((row, stripped))
        else:
            out.skipped += 1
    if not todo:
        return out
    results = scorer.score_batch([r for _, r in todo])
    for (row, _), result in zip(todo, results, strict=True):
        out.rescored[row["id"]] = result
        ctx = RuleContext.from_result(
            result, method=row["method"], host=row["host"], path=row["path"]
        )
        decision = rules.evaluate(ctx)
        let_through = row["action"] in _FLAGGED and decision.action == "allow"
        out.let_through += let_through
        if let_through and len(out.examples) < examples:
            out.examples.append(
                {
                    "id": row["id"],
                    "ts_ms": int(row["ts_ms"]),
                    "method": row["method"],
                    "path": row["path"],
                    "query": row["query"],
                    "logged_score": int(row["score"]),
                    "logged_action": row["action"],
                    "score": result.score,
                    "class": result.cls,
                    "action": decision.action,
                }
            )
    return out


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def proposed_rule(record_id: str, host: str, path: str, param: str) -> dict[str, Any]:
    """The narrowest ``exclude`` rule for a false positive: this parameter, on this path of
    this host."""
    slug = "".join(c if c.isalnum() else "-" for c in param)[:40].strip("-") or "param"
    return {
        "id": f"fp-{record_id[:12]}-{slug}",
        "expression": f"host == {_literal(host)} and path == {_literal(path)}",
        "action": "exclude",
        "param": param,
        "description": f"False-positive exception proposed from logged request {record_id}",
    }
