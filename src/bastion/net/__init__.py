"""Outbound network access for untrusted URLs: the SSRF-safe fetcher and address rules."""

from bastion.net.addresses import ADDRESS_KINDS, AddressKind, address_kind, parse_ip_host
from bastion.net.fetch import (
    FetchError,
    FetchPolicy,
    FetchResult,
    ForbiddenAddress,
    SafeFetcher,
    system_resolver,
)

__all__ = [
    "ADDRESS_KINDS",
    "AddressKind",
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "ForbiddenAddress",
    "SafeFetcher",
    "address_kind",
    "parse_ip_host",
    "system_resolver",
]
