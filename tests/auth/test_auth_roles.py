"""Roles, permissions and Principal.has: least privilege, zones for site owners."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bastion.auth.roles as roles_module
from bastion.auth import (
    ROLE_PERMISSIONS,
    InvalidZoneError,
    Permission,
    Principal,
    Role,
    normalize_zone,
)

P = Permission


def principal(*roles: Role, zones: tuple[str, ...] = ()) -> Principal:
    return Principal("t", "n", frozenset(roles), frozenset(zones), None)


def _documented_table() -> dict[str, set[str]]:
    doc = roles_module.__doc__ or ""
    table: dict[str, set[str]] = {}
    current = None
    for line in doc.split("\n\n")[1].splitlines():
        if line.startswith("="):
            continue
        role = re.match(r"``(\w+)``", line)
        if role:
            current = role.group(1)
            table[current] = set()
        if current is None:
            continue  # the header row
        if "every permission" in line:
            table[current] = {p.value for p in Permission}
        table[current] |= set(re.findall(r"``([a-z]+\.[a-z]+)``", line))
    return table


def test_docstring_table_is_the_code_table() -> None:
    assert _documented_table() == {
        r.value: {p.value for p in perms} for r, perms in ROLE_PERMISSIONS.items()
    }


def test_every_role_has_a_row_and_every_permission_is_granted_by_someone() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set().union(*ROLE_PERMISSIONS.values()) == set(Permission)


def test_least_privilege() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    analyst = ROLE_PERMISSIONS[Role.ANALYST]
    assert all(p.value.endswith(".read") for p in analyst)
    assert ROLE_PERMISSIONS[Role.INGEST] == {P.WAF_SCORE, P.CONTENT_SCAN, P.ABUSE_INGEST}
    assert ROLE_PERMISSIONS[Role.SITE_OWNER] == {P.WAF_SCORE, P.ANALYTICS_READ, P.CONTENT_APPEAL}
    assert {P.CONTENT_REVIEW, P.ABUSE_MANAGE} <= ROLE_PERMISSIONS[Role.TRUST_SAFETY]
    for role in Role:
        if role is not Role.ADMIN:
            assert P.TOKENS_MANAGE not in ROLE_PERMISSIONS[role]
            assert P.RULES_WRITE not in ROLE_PERMISSIONS[role]


def test_admin_may_do_everything_anywhere() -> None:
    admin = principal(Role.ADMIN)
    for perm in Permission:
        assert admin.has(perm) and admin.has(perm, "any.example")


def test_site_owner_only_in_own_zones() -> None:
    owner = principal(Role.SITE_OWNER, zones=("shop.example", "blog.example"))
    assert owner.has(P.WAF_SCORE, "shop.example")
    assert owner.has("analytics.read", "SHOP.Example.")  # names are case-insensitive
    assert owner.has(P.CONTENT_APPEAL, "blog.example")
    assert not owner.has(P.WAF_SCORE, "other.example")
    assert not owner.has(P.WAF_SCORE)  # no zone: refused
    assert not owner.has(P.CONTENT_REVIEW, "shop.example")
    assert not owner.has(P.TOKENS_MANAGE, "shop.example")
    assert owner.permissions("nope.example") == frozenset()


def test_roles_combine_global_and_zone_permissions() -> None:
    p = principal(Role.SITE_OWNER, Role.ANALYST, zones=("shop.example",))
    assert p.has(P.ANALYTICS_READ)  # from analyst, anywhere
    assert p.has(P.ANALYTICS_READ, "other.example")
    assert p.has(P.WAF_SCORE, "shop.example")
    assert not p.has(P.WAF_SCORE, "other.example")
    assert not p.has(P.RULES_WRITE, "shop.example")


def test_unknown_permission_is_an_error_not_a_denial() -> None:
    with pytest.raises(ValueError):
        principal(Role.ADMIN).has("waf.everything")


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("Shop.Example.", "shop.example"),
        (" a-b.c1.example ", "a-b.c1.example"),
        ("localhost", "localhost"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_normalize_zone(raw: str, zone: str) -> None:
    assert normalize_zone(raw) == zone


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".",
        "shop.example:8080",
        "*.example",
        "a..b",
        "-a.example",
        "a-.example",
        "a/b",
        "a b",
        "x" * 64 + ".example",
        ("a" * 60 + ".") * 5,
    ],
)
def test_invalid_zones(raw: str) -> None:
    with pytest.raises(InvalidZoneError):
        normalize_zone(raw)


@given(st.text(max_size=300))
def test_normalize_zone_only_raises_its_error(raw: str) -> None:
    try:
        zone = normalize_zone(raw)
    except InvalidZoneError:
        return
    assert zone == normalize_zone(zone)
    assert len(zone) <= 253 and zone.isascii()
