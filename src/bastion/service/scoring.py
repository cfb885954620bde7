"""Scoring as the service does it: parse the API's JSON, score, apply the rules, render.

Shared by the HTTP API, the nginx edge check and (through the same request form) the
CLI, so every entry point answers the same request with the same scores and decision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bastion.analytics.record import JudgedBatch
from bastion.modelops.routing import RoutePlan, client_of, zone_of
from bastion.rules import Decision, RuleContext, RuleSet
from bastion.service import metrics
from bastion.waf.exclusion import without_params
from bastion.waf.request import HttpRequest, RequestFormatError
from bastion.waf.result import WafResult
from bastion.waf.scorer import Scorer

log = logging.getLogger("bastion.service")

#: What :meth:`ScoringService.add_observer` accepts: called with every judged batch.
Observer = Callable[[JudgedBatch], None]

#: Keys a request object may carry; anything else is rejected by name.
REQUEST_KEYS = frozenset({"id", "method", "uri", "url", "headers", "body", "body_base64"})
BATCH_KEYS = frozenset({"requests"})


class ScoreInputError(ValueError):
    """The body of a scoring call is not what the API accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One request of a call, or why it could not be read."""

    request: HttpRequest | None
    item_id: Any = None
    error: str | None = None

    def error_json(self) -> dict[str, Any]:
        """The API's JSON for an item that could not be read."""
        out: dict[str, Any] = {} if self.item_id is None else {"id": self.item_id}
        out["error"] = self.error
        return out


def parse_request_object(obj: Any, where: str) -> ParsedItem:
    """One request object of the API; a malformed one becomes an item with an error."""
    if not isinstance(obj, dict):
        return ParsedItem(None, error=f"{where} must be a JSON object, got {type(obj).__name__}")
    unknown = obj.keys() - REQUEST_KEYS
    if unknown:
        names = ", ".join(sorted(repr(k) for k in unknown))
        allowed = ", ".join(sorted(REQUEST_KEYS))
        return ParsedItem(
            None, obj.get("id"), f"{where} has unknown field(s) {names}; allowed: {allowed}"
        )
    try:
        return ParsedItem(HttpRequest.from_json(obj), obj.get("id"))
    except RequestFormatError as exc:
        return ParsedItem(None, obj.get("id"), f"{where}: {exc}")


def parse_score_body(raw: bytes, *, max_batch: int) -> tuple[list[ParsedItem], bool]:
    """The items of a ``POST /v1/waf/score`` body and whether it was a batch.

    Raises :class:`ScoreInputError` when the body as a whole is unusable (not JSON, not
    UTF-8, a batch that is too large); a single bad item in a batch is reported per item.
    """
    if not raw:
        raise ScoreInputError("the request body is empty; send a JSON request object")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ScoreInputError(f"the body is not valid JSON (UTF-8): {exc}") from None
    if isinstance(doc, dict) and "requests" in doc:
        extra = doc.keys() - BATCH_KEYS
        if extra:
            names = ", ".join(sorted(repr(k) for k in extra))
            raise ScoreInputError(f"a batch has only 'requests'; unknown field(s) {names}")
        items = doc["requests"]
        if not isinstance(items, list):
            raise ScoreInputError("'requests' must be a list of request objects")
        if len(items) > max_batch:
            raise ScoreInputError(f"'requests' has {len(items)} items; the limit is {max_batch}")
        return [parse_request_object(o, f"requests[{i}]") for i, o in enumerate(items)], True
    item = parse_request_object(doc, "the request")
    if item.error is not None:
        raise ScoreInputError(item.error)
    return [item], False


@dataclass(frozen=True, slots=True)
class Verdict:
    """Scores of one request and what the rules decided."""

    result: WafResult
    decision: Decision
    #: The model version that scored it (the active model's, or the canary's).
    model: str = ""


class ScoringService:
    """The models (a :class:`RoutePlan`: active, canary, shadow) plus the rule set,
    recording metrics for every verdict."""

    def __init__(self, scorer: Scorer, rules: RuleSet) -> None:
        self.rules = rules
        #: Swapped whole by :meth:`swap`; a call reads it once, so it finishes on one plan.
        self.plan: RoutePlan[Scorer] = RoutePlan(scorer)
        self._observers: list[Observer] = []
        self._counters: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    @property
    def scorer(self) -> Scorer:
        """The active model's scorer."""
        return self.plan.active

    @property
    def version(self) -> str:
        """The active model's version."""
        return self.plan.active.version

    def swap(self, plan: RoutePlan[Scorer]) -> None:
        """Serve with ``plan`` from the next call on; calls in flight finish on theirs."""
        self.plan = plan

    def _metrics(self, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
        got = self._counters.get(version)
        if got is None:
            scored = {
                cls: metrics.WAF_SCORED.labels(version, cls)
                for cls in ("attack", "likely_attack", "likely_clean", "clean", "unscored")
            }
            actions = {
                action: metrics.WAF_ACTIONS.labels(version, action)
                for action in ("allow", "block", "challenge")
            }
            got = self._counters[version] = (scored, actions)
        return got

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer`` with every judged batch (the request log, shadow models).

        Observers run inline on the scoring path: they must be quick, must not block and
        should not raise (an exception is logged and the verdicts are returned anyway).
        """
        self._observers.append(observer)

    def remove_observer(self, observer: Observer) -> None:
        """Stop calling ``observer``."""
        self._observers.remove(observer)

    def judge(
        self,
        requests: Sequence[HttpRequest],
        *,
        explain: bool = False,
        source: str = "api",
        clients: Sequence[str | None] | None = None,
    ) -> list[Verdict]:
        """Score the requests and decide each one.

        ``source`` (``api``, ``edge``, ``middleware``, ``grpc``) and ``clients`` (the
        client address of each request, when the entry point knows it) are passed on to
        the observers."""
        plan = self.plan
        if plan.canary is None:
            return self._judge_with(plan.active, requests, explain, source, clients)
        # A canary is running: each request goes to the model its zone or client picks.
        groups: dict[int, list[int]] = {}
        scorers: dict[int, Scorer] = {}
        for i, request in enumerate(requests):
            client = clients[i] if clients is not None else None
            if client is None and plan.canary_key == "client":
                client = client_of(request.header("x-forwarded-for"), request.header("x-real-ip"))
            chosen = plan.pick(zone_of(request.header("host")), client or "")
            scorers[id(chosen)] = chosen
            groups.setdefault(id(chosen), []).append(i)
        out: list[Verdict | None] = [None] * len(requests)
        for key, idx in groups.items():
            part = self._judge_with(
                scorers[key],
                [requests[i] for i in idx],
                explain,
                source,
                None if clients is None else [clients[i] for i in idx],
            )
            for i, verdict in zip(idx, part, strict=True):
                out[i] = verdict
        return [v for v in out if v is not None]

    def _judge_with(
        self,
        scorer: Scorer,
        requests: Sequence[HttpRequest],
        explain: bool,
        source: str,
        clients: Sequence[str | None] | None,
    ) -> list[Verdict]:
        version = scorer.version
        scored, actions = self._metrics(version)
        rules = self.rules
        to_score = list(requests)
        if rules.has_exclusions:
            to_score = [excluded(rules, r) for r in to_score]
        results = scorer.score_batch(to_score, explain=explain)
        verdicts = []
        for request, result in zip(requests, results, strict=True):
            host = request.header("host") or ""
            ctx = RuleContext.from_result(
                result, method=request.method, host=host, path=request.path
            )
            decision = rules.evaluate(ctx)
            scored[result.cls].inc()
            actions[decision.action].inc()
            verdicts.append(Verdict(result, decision, version))
        if self._observers:
            self._notify(
                JudgedBatch(time.time(), source, requests, verdicts, version, clients, scorer)
            )
        return verdicts

    def _notify(self, batch: JudgedBatch) -> None:
        for observer in self._observers:
            try:
                observer(batch)
            except Exception:
                log.exception("scoring observer %r failed", observer)


def excluded(rules: RuleSet, request: HttpRequest) -> HttpRequest:
    """The request as scoring sees it: without the parameters ``exclude`` rules name."""
    params = rules.excluded_params(request.method, request.header("host") or "", request.path)
    return without_params(request, params) if params else request


def verdict_json(verdict: Verdict, item_id: Any = None) -> dict[str, Any]:
    """The API's JSON for one verdict."""
    out: dict[str, Any] = {}
    if item_id is not None:
        out["id"] = item_id
    if verdict.model:
        out["model"] = verdict.model
    out["waf"] = verdict.result.to_json()
    if verdict.result.truncated:
        out["waf"]["truncated"] = True
    decision = verdict.decision
    out["action"] = decision.action
    if decision.rule_id is not None:
        out["rule"] = decision.rule_id
    if decision.logged:
        out["logged"] = list(decision.logged)
    return out
