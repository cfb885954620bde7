"""Errors of the abuse desk's core; each message names the problem for a 4xx answer."""

from __future__ import annotations


class AbuseError(ValueError):
    """Base class: bad input to the abuse desk."""


class InvalidUrlError(AbuseError):
    """A URL that cannot be canonicalized (no host, bad scheme, bad IDNA label...)."""


class InvalidReportError(AbuseError):
    """A report that breaks a rule of its type (a DMCA notice without a signature...)."""


class InvalidActionError(AbuseError):
    """A case action that does not apply to the case's state or lacks what it needs."""


class ActionStateError(InvalidActionError):
    """The action does not apply to the case's current state (a conflict: HTTP 409)."""


class RecheckRequiredError(ActionStateError):
    """``close`` without a recent re-check that found the URL gone (HTTP 409); staff with
    the ``admin`` role may override it with a reason (audited)."""
