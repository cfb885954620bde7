"""What the ASGI and WSGI middleware share: scoring, deciding, headers, logging.

The adapters only translate their protocol into the arguments of :meth:`Guard.check` and
apply the :class:`Verdict` it returns.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from bastion.analytics.record import JudgedBatch
from bastion.rules import DEFAULT_RULE_SPECS, Decision, RuleContext, RuleSet, compile_rules
from bastion.waf.exclusion import without_params
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult
from bastion.waf.scorer import Scorer, load_scorer

logger = logging.getLogger("bastion.waf")

#: Request header carrying the action to the application; client-sent copies are dropped.
ACTION_HEADER = "x-bastion-action"
BLOCK_BODY = b"Request blocked.\n"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The WAF scores and the rules' decision for one request, as the application sees it
    (``request.state.bastion`` in Starlette/FastAPI, ``environ["bastion.decision"]`` in WSGI).

    ``body_truncated`` is true when the body was longer than ``max_body_bytes`` and only
    its prefix was scored (``result.truncated`` is then true as well).
    """

    result: WafResult
    decision: Decision
    body_truncated: bool = False

    @property
    def action(self) -> str:
        return self.decision.action


_default_scorer: Scorer | None = None
_default_lock = threading.Lock()


def default_scorer() -> Scorer:
    """The shipped model, loaded once per process on first use."""
    global _default_scorer
    if _default_scorer is None:
        with _default_lock:
            if _default_scorer is None:
                _default_scorer = load_scorer()
    return _default_scorer


class Guard:
    """Scores requests, applies the rules and builds the response metadata."""

    def __init__(
        self,
        *,
        scorer: Scorer | None,
        rules: RuleSet | None,
        max_body_bytes: int,
        block_status: int,
        expose_scores: bool,
        observer: Callable[[JudgedBatch], None] | None = None,
    ) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes}")
        if not 400 <= block_status <= 599:
            raise ValueError(f"block_status must be a 4xx or 5xx status, got {block_status}")
        self._scorer = scorer
        self.rules = rules if rules is not None else compile_rules(DEFAULT_RULE_SPECS)
        self.max_body_bytes = max_body_bytes
        self.block_status = block_status
        self.expose_scores = expose_scores
        #: Called with every judged request (e.g. a request log writing to analytics).
        self.observer = observer
        try:
            phrase = HTTPStatus(block_status).phrase
        except ValueError:
            phrase = "Blocked"
        self.block_status_line = f"{block_status} {phrase}"

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = default_scorer()
        return self._scorer

    def check(
        self,
        *,
        method: str,
        uri: str,
        path: str,
        host: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        body_truncated: bool,
        client: str | None = None,
    ) -> Verdict:
        """Score the request (``body`` is at most the prefix to score) and decide."""
        request = HttpRequest(method, uri, tuple(headers), body)
        rules = self.rules
        params = rules.excluded_params(method, host, path) if rules.has_exclusions else ()
        try:
            result = self.scorer.score(without_params(request, params) if params else request)
        except Exception:
            # Fail open: a scorer fault must not take the site down; it is logged loudly.
            logger.exception("bastion: scoring failed; the request is treated as unscored")
            result = WafResult.unscored()
        if body_truncated and not result.truncated:
            result = dataclasses.replace(result, truncated=True)
        ctx = RuleContext.from_result(result, method=method, host=host, path=path)
        verdict = Verdict(result, rules.evaluate(ctx), body_truncated)
        if verdict.decision.action == "block" or verdict.decision.logged:
            _log(verdict, ctx, client)
        if self.observer is not None:
            scorer = self.scorer
            batch = JudgedBatch(
                time.time(), "middleware", [request], [verdict], scorer.version, [client], scorer
            )
            try:
                self.observer(batch)
            except Exception:
                logger.exception("bastion: the request observer failed")
        return verdict

    def response_headers(self, verdict: Verdict) -> list[tuple[str, str]]:
        """Headers to add to the response: the action (block, challenge) and, if exposed,
        the scores."""
        headers: list[tuple[str, str]] = []
        if verdict.decision.action != "allow":
            headers.append(("X-Bastion-Action", verdict.decision.action))
        if self.expose_scores:
            r = verdict.result
            headers += [
                ("X-Bastion-Score", str(r.score)),
                ("X-Bastion-Sqli", str(r.sqli)),
                ("X-Bastion-Xss", str(r.xss)),
                ("X-Bastion-Rce", str(r.rce)),
                ("X-Bastion-Class", r.cls),
            ]
        return headers

    def block_headers(self, verdict: Verdict) -> list[tuple[str, str]]:
        """All headers of the block response."""
        return [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(BLOCK_BODY))),
            ("Cache-Control", "no-store"),
            *self.response_headers(verdict),
        ]


def _log(verdict: Verdict, ctx: RuleContext, client: str | None) -> None:
    """One record per blocked or rule-logged request: never headers' values or the body."""
    d, r = verdict.decision, verdict.result
    fields = {
        "action": d.action,
        "rule_id": d.rule_id,
        "logged": list(d.logged),
        "score": r.score,
        "sqli": r.sqli,
        "xss": r.xss,
        "rce": r.rce,
        "class": r.cls,
        "method": ctx.method,
        "host": ctx.host,
        "path": ctx.path,
        "client": client,
        "body_truncated": verdict.body_truncated,
    }
    level = logging.WARNING if d.action == "block" else logging.INFO
    what = f"blocked by rule {d.rule_id}" if d.action == "block" else f"{d.action}"
    logger.log(
        level,
        "bastion waf: %s %r %r: %s (score %d, logged by %s)",
        ctx.method,
        ctx.host,
        ctx.path,
        what,
        r.score,
        ", ".join(d.logged) or "no rule",
        extra={"bastion": fields},
    )
