"""What the edge enforces for the abuse desk: legal orders and case actions, as rules.

A rule has a scope (one URL, or a host with its subdomains), countries (empty: everywhere)
and an effect: ``block`` (451, RFC 7725) or ``interstitial`` (a warning page the visitor
may pass). Sources:

* a legal order in force: ``block`` in the order's countries, with the order's
  ``blocked_by`` as the ``Link: <...>; rel="blocked-by"`` target;
* a case in state ``actioned`` whose enforcement is ``block`` (everywhere), ``geo_block``
  (its countries) or ``interstitial``, scoped to the case's URL.

URLs match on host and path; the query is ignored (a block covers the path whatever its
parameters, like content blocks). :class:`EdgeRules` answers a request without touching
anything but dicts: hosts without rules cost one set lookup per label of the host.

Passing an interstitial: the warning page carries a form whose ticket is an HMAC over the
host, the rule and a random nonce that the page also sets as a ``SameSite=Strict`` cookie,
so another site cannot submit the form for the visitor. The pass is a cookie per rule,
``<expiry>.<HMAC(host, rule, expiry)>``, checked by the edge with the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bastion.abuse.errors import InvalidUrlError
from bastion.abuse.orders import LegalOrder
from bastion.abuse.urls import parse_url

Effect = Literal["block", "interstitial"]
#: Case enforcement actions and the effect each has at the edge.
CASE_EFFECTS: dict[str, Effect] = {
    "block": "block",
    "geo_block": "block",
    "interstitial": "interstitial",
}
MAX_HOST_LABELS = 127


@dataclass(frozen=True, slots=True)
class EdgeRule:
    """One enforcement: ``id`` is ``order:<n>`` or ``case:<n>``."""

    id: str
    effect: Effect
    countries: frozenset[str] = frozenset()
    #: ``Link`` target for a 451 (``None``: no Link header).
    blocked_by: str | None = None

    @property
    def legal(self) -> bool:
        return self.id.startswith("order:")

    def applies_in(self, country: str | None) -> bool:
        """Everywhere when it names no countries; else only in them (not when unknown)."""
        return not self.countries or (country is not None and country in self.countries)

    def link_header(self) -> str | None:
        """RFC 7725's ``Link`` value, or ``None``."""
        return f'<{self.blocked_by}>; rel="blocked-by"' if self.blocked_by else None


@dataclass(frozen=True, slots=True)
class Scoped:
    """A rule with its scope: ``path`` ``None`` means the host and its subdomains."""

    host: str
    path: str | None
    rule: EdgeRule


def url_scope(url: str) -> tuple[str, str]:
    """The ``(host, path)`` a canonical URL is enforced on (port and query dropped)."""
    parsed = parse_url(url)
    return parsed.host, parsed.path


def order_rules(orders: Iterable[LegalOrder], at: datetime) -> list[Scoped]:
    """The rules of the orders in force at ``at``."""
    out: list[Scoped] = []
    for order in orders:
        if not order.in_force(at):
            continue
        rule = EdgeRule(f"order:{order.id}", "block", frozenset(order.countries), order.blocked_by)
        out.extend(Scoped(*url_scope(u), rule) for u in order.urls)
        out.extend(Scoped(h, None, rule) for h in order.hosts)
    return out


def case_rule(
    case_id: int, url: str, enforcement: dict[str, Any] | None, blocked_by: str | None
) -> Scoped | None:
    """The rule of an actioned case's enforcement (``None`` for other actions)."""
    if not enforcement:
        return None
    effect = CASE_EFFECTS.get(str(enforcement.get("action")))
    if effect is None:
        return None
    countries = frozenset(str(c).upper() for c in enforcement.get("countries") or ())
    if enforcement.get("action") != "geo_block":
        countries = frozenset()
    link = blocked_by if effect == "block" else None
    try:
        host, path = url_scope(url)
    except InvalidUrlError:
        return None
    return Scoped(host, path, EdgeRule(f"case:{case_id}", effect, countries, link))


def _order(rule: EdgeRule) -> tuple[int, int, str]:
    # Blocks before interstitials; legal orders first among blocks (their Link matters).
    return (0 if rule.effect == "block" else 1, 0 if rule.legal else 1, rule.id)


class EdgeRules:
    """Rules indexed by exact ``(host, path)`` and by host (covering subdomains)."""

    def __init__(self, scoped: Iterable[Scoped] = ()) -> None:
        by_url: dict[tuple[str, str], list[EdgeRule]] = {}
        by_host: dict[str, list[EdgeRule]] = {}
        for s in scoped:
            if s.path is None:
                by_host.setdefault(s.host, []).append(s.rule)
            else:
                by_url.setdefault((s.host, s.path), []).append(s.rule)
        self._by_url = {k: tuple(sorted(v, key=_order)) for k, v in by_url.items()}
        self._by_host = {k: tuple(sorted(v, key=_order)) for k, v in by_host.items()}
        self._url_hosts = frozenset(h for h, _ in self._by_url)
        self._size = sum(map(len, self._by_url.values())) + sum(map(len, self._by_host.values()))

    def __len__(self) -> int:
        return self._size

    def candidates(self, host: str, path: str) -> list[EdgeRule]:
        """Every rule whose scope covers ``host`` and ``path`` (blocks first)."""
        found: list[EdgeRule] = []
        if self._by_host:
            labels = host.split(".", MAX_HOST_LABELS)
            for i in range(len(labels)):
                rules = self._by_host.get(".".join(labels[i:]))
                if rules:
                    found.extend(rules)
        if host in self._url_hosts:
            rules = self._by_url.get((host, _canonical_path(host, path)))
            if rules:
                found.extend(rules)
        if len(found) > 1:
            found.sort(key=_order)
        return found

    def match(
        self,
        host: str,
        path: str,
        country: str | None,
        passed: Callable[[EdgeRule], bool] = lambda rule: False,
    ) -> EdgeRule | None:
        """The rule the edge enforces for a request, or ``None``: the first block that
        applies in ``country``, else the first interstitial not ``passed``."""
        if not self._size:
            return None
        for rule in self.candidates(host, path):
            if not rule.applies_in(country):
                continue
            if rule.effect == "interstitial" and passed(rule):
                continue
            return rule
        return None


#: A path made of these characters, without dot segments, is already canonical.
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


def _canonical_path(host: str, path: str) -> str:
    """The path as :func:`~bastion.abuse.urls.canonicalize_url` writes it (most request
    paths already are: checked by a regular expression, without parsing)."""
    if _PLAIN_PATH.match(path) and not _DOT_SEGMENT.search(path):
        return path
    try:
        return parse_url(f"http://{host}{path if path.startswith('/') else '/' + path}").path
    except InvalidUrlError:
        return path


# -- interstitial passes ------------------------------------------------------------


def pass_cookie_name(rule_id: str) -> str:
    """``bastion_pass_case_12`` for ``case:12``."""
    return "bastion_pass_" + rule_id.replace(":", "_")


def _mac(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def sign_pass(secret: bytes, host: str, rule_id: str, expires: int) -> str:
    """The pass cookie's value for ``rule_id`` on ``host`` until ``expires`` (Unix time)."""
    return f"{expires}.{_mac(secret, 'pass', host, rule_id, str(expires))}"


def check_pass(secret: bytes, host: str, rule_id: str, value: str, now: float) -> bool:
    """Whether ``value`` is an unexpired pass for ``rule_id`` on ``host``."""
    expires, _, mac = value.partition(".")
    if not expires.isdigit() or len(expires) > 12 or int(expires) <= now:
        return False
    return hmac.compare_digest(mac, _mac(secret, "pass", host, rule_id, expires))


def ticket_mac(secret: bytes, host: str, rule_id: str, nonce: str) -> str:
    """The interstitial form's ticket, bound to the nonce in the visitor's Strict cookie."""
    return _mac(secret, "ticket", host, rule_id, nonce)


def check_ticket(secret: bytes, host: str, rule_id: str, nonce: str, mac: str) -> bool:
    return bool(nonce) and hmac.compare_digest(mac, ticket_mac(secret, host, rule_id, nonce))


# -- re-check before closing ------------------------------------------------------------------

#: What a re-check of a case's URL found; only ``gone`` lets the re-check close the case.
RECHECK_OUTCOMES = ("gone", "still_up", "unreachable", "inconclusive")


def recheck_outcome(status: int | None, error_code: str | None = None) -> str:
    """``gone`` (404, 410, or the name no longer resolves), ``still_up`` (2xx),
    ``unreachable`` (no connection, timeout: may be temporary) or ``inconclusive``
    (anything else: 403, 451, 5xx, an address the fetcher may not reach...)."""
    if status is None:
        if error_code == "dns":
            return "gone"
        return "unreachable" if error_code in ("connect", "timeout") else "inconclusive"
    if status in (404, 410):
        return "gone"
    if 200 <= status < 300:
        return "still_up"
    return "inconclusive"
