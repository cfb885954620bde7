"""Insert a snippet into a benign library's text, the way skimmers ride on real files."""

from __future__ import annotations

import random
import re

_TOP_LEVEL_BREAK = re.compile(r"[;}]\n(?=[A-Za-z_$(!/])")


def inject(library: str, snippet: str, rng: random.Random) -> str:
    """``library`` with ``snippet`` appended, prepended or put between top-level statements."""
    r = rng.random()
    if r < 0.6:
        sep = rng.choice(["\n", "\n\n", ";\n", "\n\n\n\n"])
        return library.rstrip() + sep + snippet + "\n"
    if r < 0.75:
        return snippet + "\n" + library
    breaks = [m.end() for m in _TOP_LEVEL_BREAK.finditer(library)]
    if not breaks:
        return library.rstrip() + "\n" + snippet + "\n"
    at = rng.choice(breaks)
    return library[:at] + snippet + "\n" + library[at:]
