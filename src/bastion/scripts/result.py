"""Verdicts on scripts: four integer scores 1-99 (low = malicious) and a class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ScriptClass = Literal["benign", "magecart", "cryptomining", "malware"]
MALICIOUS_CLASSES: tuple[ScriptClass, ...] = ("magecart", "cryptomining", "malware")

#: Score bands, as for the WAF: 1-20 confident malicious, 21-50 likely malicious.
MALICIOUS_MAX = 20
LIKELY_MALICIOUS_MAX = 50


def probability_to_score(p: float) -> int:
    """Map a calibrated probability of maliciousness to 1 (malicious) .. 99 (benign)."""
    if p != p:  # NaN
        return 99
    p = min(max(p, 0.0), 1.0)
    return max(1, min(99, round(99.0 - 98.0 * p)))


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """Scores of one script. ``js_integrity`` is the combined score; ``cls`` the verdict."""

    js_integrity: int
    magecart: int
    cryptomining: int
    malware: int
    cls: ScriptClass
    ast_hash: str
    container: str = "js"
    truncated: bool = False

    def scores(self) -> dict[str, int]:
        return {
            "js_integrity": self.js_integrity,
            "magecart": self.magecart,
            "cryptomining": self.cryptomining,
            "malware": self.malware,
        }

    def to_json(self) -> dict[str, Any]:
        """``{"scores": {...}, "class": ...}`` as ``bastion scripts scan --json`` prints it."""
        return {"scores": self.scores(), "class": self.cls}
