"""Which scored requests are logged: a fixed share, chosen by a hash of the request.

The choice depends only on the request (method, URI, the first bytes of the body), so a
replay of the same traffic logs the same requests.
"""

from __future__ import annotations

import zlib

from bastion.waf.request import HttpRequest

_SPACE = 1 << 32
#: Body bytes that enter the sampling hash.
_BODY_PREFIX = 256


class Sampler:
    """Keeps a ``rate`` share (0..1) of requests, deterministically."""

    __slots__ = ("_threshold", "rate")

    def __init__(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the sample rate must be between 0 and 1, got {rate}")
        self.rate = rate
        self._threshold = int(rate * _SPACE)

    @property
    def keeps_all(self) -> bool:
        """True at rate 1: every request is kept without hashing."""
        return self._threshold >= _SPACE

    @property
    def keeps_none(self) -> bool:
        """True at rate 0."""
        return self._threshold == 0

    def keep(self, request: HttpRequest) -> bool:
        """Whether ``request`` is logged."""
        if self._threshold >= _SPACE:
            return True
        if self._threshold == 0:
            return False
        key = f"{request.method} {request.uri}".encode("utf-8", "surrogatepass")
        h = zlib.crc32(request.body[:_BODY_PREFIX], zlib.crc32(key))
        # crc32 is linear; one multiplicative mixing step spreads near-identical inputs.
        h = (h * 0x9E3779B1) & 0xFFFFFFFF
        return h < self._threshold
