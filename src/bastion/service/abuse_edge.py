"""The abuse desk at the edge: legal orders and case actions in each worker's edge check.

:class:`EdgeEnforcement` holds the rules (:class:`bastion.abuse.enforcement.EdgeRules`) in
memory, reloaded from the database on a background thread every ``refresh_s`` seconds (a
lookup never waits for the database), and at once after this worker changes an order or
a case. Answers to nginx's ``auth_request`` subrequest:

* **451** (a legal order, ``block`` or ``geo_block``): ``403`` with
  ``X-Bastion-Action: legal-block`` and ``X-Bastion-Link: <...>; rel="blocked-by"``,
  which nginx turns into 451 with a ``Link`` header (``auth_request`` passes only 2xx,
  401 and 403 on; see ``deploy/nginx/bastion-site.conf``);
* **interstitial**: ``401`` with ``X-Bastion-Action: interstitial`` and the rule id;
  nginx then serves ``GET /v1/edge/interstitial`` (the warning page) in place of the site.
  Its form posts to ``/.well-known/bastion-pass`` (proxied to ``/v1/edge/pass``), which
  sets a signed, short-lived pass cookie the edge accepts for that host and rule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from bastion.abuse.enforcement import EdgeRule, EdgeRules, check_pass, pass_cookie_name
from bastion.service.blocked import edge_target
from bastion.store.abuse_orders import (
    edge_signature,
    load_edge_rules,
    next_order_boundary,
    shared_secret,
)
from bastion.store.abuse_sql import now_utc
from bastion.store.db import Database

log = logging.getLogger("bastion.service.abuse_edge")

PASS_SECRET = "interstitial-pass"  # noqa: S105 (the key's name)
LEGAL_BLOCK = b"legal-block"
INTERSTITIAL = b"interstitial"


class EdgeEnforcement:
    """The legal orders and case actions one worker's edge check enforces."""

    def __init__(
        self,
        database: Database,
        refresh_s: float,
        *,
        blocked_by: str | None,
        country_header: str = "x-bastion-country",
    ) -> None:
        self.database = database
        self.refresh_s = refresh_s
        self.blocked_by = blocked_by
        self.country_header = country_header.lower().encode("latin-1")
        self.rules = EdgeRules()
        self.secret = b""
        self._lock = threading.Lock()
        self._loading = False
        self._loaded_at = 0.0
        self._signature: tuple[object, ...] | None = None
        self._boundary: datetime | None = None
        #: How many times the rules were rebuilt (not just checked).
        self.rebuilds = 0
        self.load()

    def load(self) -> None:
        """Reload the rules now if they may have changed (a cheap signature query first;
        the full rebuild only on a change or when an order starts or expires); keeps the
        old rules on a database error."""
        started = time.monotonic()
        try:
            with self.database.session(write=not self.secret) as session:
                if not self.secret:
                    self.secret = shared_secret(session, PASS_SECRET)
                now = now_utc()
                signature = edge_signature(session)
                due = self._boundary is not None and now >= self._boundary
                if signature != self._signature or due:
                    self.rules = load_edge_rules(session, now=now, blocked_by=self.blocked_by)
                    self._boundary = next_order_boundary(session, now)
                    self._signature = signature
                    self.rebuilds += 1
        except SQLAlchemyError as exc:
            log.warning("could not reload the abuse desk's edge rules: %s", exc)
        finally:
            self._loaded_at = started
            self._loading = False

    def refresh_soon(self) -> None:
        """Reload on a background thread (after this worker changed an order or a case)."""
        with self._lock:
            if self._loading:
                return
            self._loading = True
        threading.Thread(target=self.load, name="bastion-abuse-edge", daemon=True).start()

    def _maybe_refresh(self) -> None:
        if time.monotonic() - self._loaded_at > self.refresh_s and not self._loading:
            self.refresh_soon()

    def answer(
        self, headers: Iterable[tuple[bytes, bytes]], uri: str
    ) -> tuple[int, list[tuple[bytes, bytes]]] | None:
        """The edge's answer when a rule applies to the request, else ``None``."""
        self._maybe_refresh()
        rules = self.rules
        if not len(rules):
            return None
        host_value = country_value = cookie = None
        for name, value in headers:
            if name == b"host":
                host_value = value
            elif name == self.country_header:
                country_value = value
            elif name == b"cookie":
                cookie = value if cookie is None else cookie + b"; " + value
        host, path = edge_target(host_value, uri)
        country = _country(country_value)
        now = time.time()

        def passed(rule: EdgeRule) -> bool:
            value = _cookie(cookie, pass_cookie_name(rule.id))
            return value is not None and check_pass(self.secret, host, rule.id, value, now)

        rule = rules.match(host, path, country, passed)
        if rule is None:
            return None
        out = [(b"x-bastion-rule", rule.id.encode())]
        if rule.effect == "interstitial":
            return 401, [(b"x-bastion-action", INTERSTITIAL), *out]
        link = rule.link_header()
        if link:
            out.append((b"x-bastion-link", link.encode()))
        return 403, [(b"x-bastion-action", LEGAL_BLOCK), *out]


def _country(value: bytes | None) -> str | None:
    if value is None or len(value) != 2 or not value.isalpha():
        return None
    return value.decode("ascii").upper()


def _cookie(header: bytes | None, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (``None`` if absent)."""
    if not header:
        return None
    wanted = name.encode()
    for part in header.split(b";"):
        key, sep, value = part.strip().partition(b"=")
        if sep and key == wanted:
            return value.decode("latin-1").strip('"')
    return None
