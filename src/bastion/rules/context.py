"""What rules see (the scores and a few request attributes) and what they decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bastion.waf.result import WafResult

DecisionAction = Literal["allow", "block", "challenge"]


@dataclass(frozen=True, slots=True)
class RuleContext:
    """The values rule expressions read: ``waf.*`` scores and class, method, host, path."""

    score: int
    sqli: int
    xss: int
    rce: int
    cls: str
    method: str
    host: str
    path: str

    @classmethod
    def from_result(cls, result: WafResult, *, method: str, host: str, path: str) -> RuleContext:
        """The context of a scored request. ``method`` is upper-cased and ``host`` lower-cased
        without its port, so rules compare them in their canonical form; ``path`` is kept as
        given (the request-line path, without the query string)."""
        return cls(
            result.score,
            result.sqli,
            result.xss,
            result.rce,
            result.cls,
            method.upper(),
            _hostname(host),
            path,
        )

    @classmethod
    def before_scoring(cls, *, method: str, host: str, path: str) -> RuleContext:
        """The context ``exclude`` rules see: the request's attributes, no scores yet."""
        return cls(100, 100, 100, 100, "unscored", method.upper(), _hostname(host), path)


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, sep, port = host.rpartition(":")
    return name if sep and port.isdigit() else host


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a rule set for one request.

    ``action`` is ``"allow"``, ``"block"`` or ``"challenge"``; ``rule_id`` names the rule
    that ended evaluation (``block``, ``challenge`` or ``skip``; None when none matched);
    ``logged`` lists the matching ``log`` rules in order.
    """

    action: DecisionAction
    rule_id: str | None = None
    logged: tuple[str, ...] = ()
