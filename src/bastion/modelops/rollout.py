"""The rollout state machine of one model kind: which version is active, in canary, in shadow.

Statuses of a version: ``candidate`` (registered, serves nothing), ``shadow`` (scores live
traffic beside the active model, only logged), ``canary`` (acts for a set percentage of
traffic, picked by a stable hash of the zone or client address), ``active`` (acts for the
rest, exactly one per kind once anything is promoted) and ``retired``.

:class:`RolloutState` is immutable; each operation returns the new state and the status
changes it implies, or raises :class:`RolloutError` naming what is not allowed. Every
change increments ``revision``: the counter the service's workers poll to swap models.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

MODEL_KINDS = ("waf", "scripts")
STATUSES = ("candidate", "shadow", "canary", "active", "retired")
CANARY_KEYS = ("zone", "client")
#: Previously active versions remembered for rollback.
MAX_PREVIOUS = 16


class RolloutError(ValueError):
    """An operation the current rollout state does not allow; the message says why."""


#: A status change: (version, old status, new status).
Change = tuple[str, str, str]


def check_percent(percent: float) -> float:
    """A canary share in (0, 100] percent."""
    if not 0.0 < percent <= 100.0 or percent != percent:
        raise RolloutError(f"canary percent must be in (0, 100], got {percent}")
    return float(percent)


@dataclass(frozen=True)
class RolloutState:
    """Which versions of one model kind serve, and how."""

    kind: str
    revision: int = 0
    active: str | None = None
    canary: str | None = None
    canary_percent: float = 0.0
    canary_key: str = "zone"
    shadow: str | None = None
    #: Previously active versions, oldest first (rollback re-activates the last).
    previous: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise RolloutError(f"unknown model kind {self.kind!r}; known: {', '.join(MODEL_KINDS)}")
        if self.canary_key not in CANARY_KEYS:
            raise RolloutError(f"canary key must be one of {', '.join(CANARY_KEYS)}")

    def status_of(self, version: str) -> str | None:
        """The serving status of ``version`` (``None``: candidate or retired, see the registry)."""
        if version == self.active:
            return "active"
        if version == self.canary:
            return "canary"
        if version == self.shadow:
            return "shadow"
        return None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["previous"] = list(self.previous)
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RolloutState:
        return cls(**{**doc, "previous": tuple(doc.get("previous", ()))})

    def _next(self, **changes: Any) -> RolloutState:
        return replace(self, revision=self.revision + 1, **changes)

    def start_shadow(self, version: str, status: str) -> tuple[RolloutState, list[Change]]:
        """Put a candidate (or the canary) in shadow; a previous shadow becomes a candidate."""
        if version == self.active:
            raise RolloutError(f"{version} is the active model; it cannot also be its shadow")
        if status not in ("candidate", "canary", "shadow"):
            raise RolloutError(f"{version} is {status}; only a candidate or canary can shadow")
        changes: list[Change] = []
        if self.shadow is not None and self.shadow != version:
            changes.append((self.shadow, "shadow", "candidate"))
        state = self._next(shadow=version)
        if version == self.canary:
            state = replace(state, canary=None, canary_percent=0.0)
        if status != "shadow":
            changes.append((version, status, "shadow"))
        return state, changes

    def start_canary(
        self, version: str, status: str, percent: float, key: str = "zone"
    ) -> tuple[RolloutState, list[Change]]:
        """Let ``version`` act for ``percent`` % of traffic, picked by ``key``'s hash."""
        percent = check_percent(percent)
        if key not in CANARY_KEYS:
            raise RolloutError(f"canary key must be one of {', '.join(CANARY_KEYS)}, got {key!r}")
        if self.active is None:
            raise RolloutError("no active model yet: promote one before starting a canary")
        if version == self.active:
            raise RolloutError(f"{version} is already the active model")
        if status not in ("candidate", "shadow", "canary"):
            raise RolloutError(f"{version} is {status}; only a candidate or shadow can canary")
        changes: list[Change] = []
        if self.canary is not None and self.canary != version:
            changes.append((self.canary, "canary", "candidate"))
        shadow = None if self.shadow == version else self.shadow
        if status != "canary":
            changes.append((version, status, "canary"))
        state = self._next(canary=version, canary_percent=percent, canary_key=key, shadow=shadow)
        return state, changes

    def promote(self, version: str, status: str) -> tuple[RolloutState, list[Change]]:
        """Make ``version`` the active model; the old active one is retired (kept for rollback)."""
        if version == self.active:
            raise RolloutError(f"{version} is already the active model")
        if status not in ("candidate", "shadow", "canary", "retired"):
            raise RolloutError(f"{version} is {status} and cannot be promoted")
        changes: list[Change] = [(version, status, "active")]
        previous = self.previous
        if self.active is not None:
            changes.append((self.active, "active", "retired"))
            previous = (*previous, self.active)[-MAX_PREVIOUS:]
        canary, percent = (
            (None, 0.0)
            if self.canary == version
            else (
                self.canary,
                self.canary_percent,
            )
        )
        shadow = None if self.shadow == version else self.shadow
        state = self._next(
            active=version, canary=canary, canary_percent=percent, shadow=shadow, previous=previous
        )
        return state, changes

    def rollback(self) -> tuple[RolloutState, list[Change]]:
        """Stop the canary if there is one; otherwise re-activate the previously active model."""
        if self.canary is not None:
            state = self._next(canary=None, canary_percent=0.0)
            return state, [(self.canary, "canary", "candidate")]
        if not self.previous or self.active is None:
            raise RolloutError(f"nothing to roll back for {self.kind}: no canary, no earlier model")
        back = self.previous[-1]
        changes: list[Change] = [(self.active, "active", "retired"), (back, "retired", "active")]
        shadow = None if self.shadow == back else self.shadow
        return self._next(active=back, previous=self.previous[:-1], shadow=shadow), changes

    def stop_shadow(self) -> tuple[RolloutState, list[Change]]:
        """End the shadow run; the shadow model becomes a candidate again."""
        if self.shadow is None:
            raise RolloutError(f"no {self.kind} model is in shadow")
        return self._next(shadow=None), [(self.shadow, "shadow", "candidate")]

    def retire(self, version: str, status: str) -> tuple[RolloutState, list[Change]]:
        """Retire a candidate, shadow or canary (the active model is replaced by promoting)."""
        if version == self.active:
            raise RolloutError(f"{version} is the active model: promote another one instead")
        if status == "retired":
            raise RolloutError(f"{version} is already retired")
        state = self._next(
            canary=None if self.canary == version else self.canary,
            canary_percent=0.0 if self.canary == version else self.canary_percent,
            shadow=None if self.shadow == version else self.shadow,
        )
        return state, [(version, status, "retired")]
