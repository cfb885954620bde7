"""An authorize-hook factory for worker processes started by ``serve`` in the tests.

It is imported by those processes (by name, through the "spawn" start method), so it stays
a small module-level function with no test-only imports.
"""

from __future__ import annotations

import os
from collections.abc import Callable

TOKEN = "worker-test-token"


def pid_logging_authorizer() -> Callable[[str | None], bool]:
    """Accept only :data:`TOKEN`; append this process's pid to ``$BASTION_TEST_PID_LOG``
    for every call, so a test can see which worker answered."""
    path = os.environ["BASTION_TEST_PID_LOG"]
    pid = os.getpid()

    def authorize(token: str | None) -> bool:
        with open(path, "a", encoding="ascii") as f:
            f.write(f"{pid}\n")
        return token == TOKEN

    return authorize
