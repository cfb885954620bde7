"""The blocked URLs the edge check answers 451 for: an in-memory set per worker.

Loaded from ``content_blocks`` at start and reloaded on a background thread every
``refresh_s`` seconds (a lookup never waits for the database); a worker's own block
changes apply at once through :meth:`BlockedUrls.note`.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bastion.store.content_models import ContentBlock
from bastion.store.db import Database

log = logging.getLogger("bastion.service.blocked")

#: Block states in which the edge answers 451.
BLOCKING_STATES = frozenset({"active", "pending", "in_review"})


class BlockedUrls:
    """``(zone, path)`` pairs that are blocked."""

    def __init__(self, database: Database, refresh_s: float) -> None:
        self.database = database
        self.refresh_s = refresh_s
        self._urls: frozenset[tuple[str, str]] = frozenset()
        self._lock = threading.Lock()
        self._loading = False
        self._loaded_at = 0.0
        self.load()

    def __len__(self) -> int:
        return len(self._urls)

    def load(self) -> None:
        """Reload the set from the database now (keeps the old set on a database error)."""
        started = time.monotonic()
        try:
            with self.database.session() as session:
                rows = session.execute(
                    select(ContentBlock.zone, ContentBlock.url).where(
                        ContentBlock.state.in_(sorted(BLOCKING_STATES))
                    )
                ).all()
            self._urls = frozenset((zone, url) for zone, url in rows)
        except SQLAlchemyError as exc:
            log.warning("could not reload blocked URLs: %s", exc)
        finally:
            self._loaded_at = started
            self._loading = False

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._loading:
                return
            self._loading = True
        threading.Thread(target=self.load, name="bastion-blocked-urls", daemon=True).start()

    def is_blocked(self, zone: str, path: str) -> bool:
        """Whether ``path`` of ``zone`` (lower case, no port) is blocked."""
        if time.monotonic() - self._loaded_at > self.refresh_s and not self._loading:
            self._refresh_in_background()
        return (zone, path) in self._urls

    def note(self, zone: str, path: str, state: str) -> None:
        """Apply a block change this worker just committed."""
        with self._lock:
            if state in BLOCKING_STATES:
                self._urls = self._urls | {(zone, path)}
            else:
                self._urls = self._urls - {(zone, path)}


def edge_target(host: bytes | None, uri: str) -> tuple[str, str]:
    """The ``(zone, path)`` of a request: Host without port, the URI without its query."""
    zone = b"" if host is None else host.split(b":", 1)[0] if not host.startswith(b"[") else host
    path = uri.split("?", 1)[0].split("#", 1)[0]
    return zone.decode("latin-1").lower().rstrip("."), path
