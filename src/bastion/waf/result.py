"""Attack-score results: integer scores 1-99 per vector, the class bands, explanations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

VECTORS: tuple[str, ...] = ("sqli", "xss", "rce")
#: Model heads in output order: the three vectors plus the independent global head.
HEADS: tuple[str, ...] = ("sqli", "xss", "rce", "global")

UNSCORED = 100
ATTACK_MAX = 20
LIKELY_ATTACK_MAX = 50
LIKELY_CLEAN_MAX = 80

ScoreClass = Literal["attack", "likely_attack", "likely_clean", "clean", "unscored"]


def score_class(score: int) -> ScoreClass:
    """The Cloudflare-style band of a score: attack 1-20, likely_attack 21-50, ..., 100 unscored."""
    if score >= UNSCORED:
        return "unscored"
    if score <= ATTACK_MAX:
        return "attack"
    if score <= LIKELY_ATTACK_MAX:
        return "likely_attack"
    if score <= LIKELY_CLEAN_MAX:
        return "likely_clean"
    return "clean"


def probability_to_score(p_attack: float) -> int:
    """Map a calibrated attack probability to 1 (attack) .. 99 (clean)."""
    if p_attack != p_attack:  # NaN
        return UNSCORED
    p = min(max(p_attack, 0.0), 1.0)
    return max(1, min(99, round(99.0 - 98.0 * p)))


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one head scored as it did: the request part and the decoded text that drove it."""

    location: str
    snippet: str
    score: int

    def to_json(self) -> dict[str, Any]:
        return {"location": self.location, "snippet": self.snippet, "score": self.score}


@dataclass(frozen=True, slots=True)
class WafResult:
    """Scores of one request. ``score`` is the global head, not a sum of the vectors."""

    score: int
    sqli: int
    xss: int
    rce: int
    explanations: dict[str, Explanation] | None = None
    truncated: bool = False

    @property
    def cls(self) -> ScoreClass:
        return score_class(self.score)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "score": self.score,
            "sqli": self.sqli,
            "xss": self.xss,
            "rce": self.rce,
            "class": self.cls,
        }
        if self.explanations is not None:
            out["explain"] = {k: v.to_json() for k, v in self.explanations.items()}
        return out

    @classmethod
    def unscored(cls) -> WafResult:
        return cls(UNSCORED, UNSCORED, UNSCORED, UNSCORED)
