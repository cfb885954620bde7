"""Roles and permissions: one table, least privilege.

========================  =====================================================  ==========
Role                      Permissions                                            Scope
========================  =====================================================  ==========
``admin``                 every permission                                       all zones
``trust_safety``          ``content.scan``, ``content.review``,                  all zones
                          ``abuse.ingest``, ``abuse.manage``, ``analytics.read``,
                          ``feedback.write``
``analyst``               ``rules.read``, ``analytics.read``, ``metrics.read``   all zones
                          (read-only)
``ingest``                ``waf.score``, ``content.scan``, ``abuse.ingest``      all zones
                          (submit and score only)
``site_owner``            ``waf.score``, ``analytics.read``, ``content.appeal``  own zones
========================  =====================================================  ==========

A token may hold several roles; its permissions are the union. A ``site_owner`` token names
its zones when it is created, and its permissions hold only for a request about one of them:
asked without a zone (``Principal.has(p)``), a permission that only ``site_owner`` grants is
refused. Permissions of the other roles hold for every zone and for requests without one.

Permissions: ``waf.score`` (score requests), ``tokens.manage`` (create, list, revoke tokens),
``rules.read`` / ``rules.write`` (WAF rules), ``analytics.read`` (traffic and score
analytics), ``content.scan`` (submit content for scanning), ``content.review`` (decide on
flagged content), ``content.appeal`` (a site owner asks for a review), ``abuse.ingest``
(submit abuse reports), ``abuse.manage`` (work the abuse desk), ``metrics.read`` (service
metrics), ``models.manage`` (register, shadow, canary, promote and roll back models),
``feedback.write`` (mark scored requests as false positives / negatives for retraining).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    """What a token is for; see the module docstring for each role's permissions."""

    ADMIN = "admin"
    TRUST_SAFETY = "trust_safety"
    ANALYST = "analyst"
    INGEST = "ingest"
    SITE_OWNER = "site_owner"


class Permission(StrEnum):
    """One action an API endpoint checks for."""

    WAF_SCORE = "waf.score"
    TOKENS_MANAGE = "tokens.manage"
    RULES_READ = "rules.read"
    RULES_WRITE = "rules.write"
    ANALYTICS_READ = "analytics.read"
    CONTENT_SCAN = "content.scan"
    CONTENT_REVIEW = "content.review"
    CONTENT_APPEAL = "content.appeal"
    ABUSE_INGEST = "abuse.ingest"
    ABUSE_MANAGE = "abuse.manage"
    METRICS_READ = "metrics.read"
    MODELS_MANAGE = "models.manage"
    FEEDBACK_WRITE = "feedback.write"


P = Permission

#: The role table (documented in the module docstring; a test keeps the two in step).
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.TRUST_SAFETY: frozenset(
        {
            P.CONTENT_SCAN,
            P.CONTENT_REVIEW,
            P.ABUSE_INGEST,
            P.ABUSE_MANAGE,
            P.ANALYTICS_READ,
            P.FEEDBACK_WRITE,
        }
    ),
    Role.ANALYST: frozenset({P.RULES_READ, P.ANALYTICS_READ, P.METRICS_READ}),
    Role.INGEST: frozenset({P.WAF_SCORE, P.CONTENT_SCAN, P.ABUSE_INGEST}),
    Role.SITE_OWNER: frozenset({P.WAF_SCORE, P.ANALYTICS_READ, P.CONTENT_APPEAL}),
}

#: Roles whose permissions hold only for the token's own zones.
ZONE_SCOPED_ROLES: frozenset[Role] = frozenset({Role.SITE_OWNER})


def permissions_of(roles: frozenset[Role], *, in_own_zone: bool) -> frozenset[Permission]:
    """The union of ``roles``' permissions; zone-scoped roles count only ``in_own_zone``."""
    granted: set[Permission] = set()
    for role in roles:
        if role in ZONE_SCOPED_ROLES and not in_own_zone:
            continue
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
