"""Template filling with lazily drawn placeholder values."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

Filler = Callable[[random.Random], str]

_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)\}")


class Slots(dict[str, str]):
    """A ``format_map`` mapping that draws each missing placeholder once from its filler."""

    def __init__(
        self, rng: random.Random, fillers: Mapping[str, Filler], fixed: Mapping[str, str]
    ) -> None:
        super().__init__(fixed)
        self._rng = rng
        self._fillers = fillers

    def __missing__(self, key: str) -> str:
        try:
            filler = self._fillers[key]
        except KeyError:
            raise KeyError(f"no filler for placeholder {{{key}}}") from None
        value = filler(self._rng)
        self[key] = value
        return value


def fill(
    template: str,
    rng: random.Random,
    fillers: Mapping[str, Filler],
    fixed: Mapping[str, str] | None = None,
) -> str:
    """Fill ``{name}`` placeholders (``{{``/``}}`` escape braces); repeated names share a value."""
    slots = Slots(rng, fillers, fixed or {})

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0)[0] if name is None else slots[name]

    return _FIELD.sub(repl, template)


def choice_filler(options: tuple[str, ...] | list[str]) -> Filler:
    """A filler that picks uniformly from ``options``."""
    return lambda rng: rng.choice(options)
