"""Hash one piece of content with every signal type, decoding the image at most once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from bastion.content.decode import DEFAULT_LIMITS, DecodeLimits
from bastion.content.errors import ContentError
from bastion.content.signals import Content, SignalHash, SignalType, signal_types

__all__ = ["FAST_MIN_SIDE", "ContentHashes", "ImageInfo", "hash_content"]

#: Shorter side kept by fast (draft-mode) decoding. A 1024x768 JPEG decodes at 512x384,
#: several times faster, and its PDQ hash stays within 18 bits of the full decode's
#: (measured on 524 photos; see benchmarks/content_robustness.py).
FAST_MIN_SIDE: Final = 384


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What decoding learnt about the image (no pixels)."""

    width: int
    height: int
    format: str
    orientation: int
    scale: int


@dataclass(frozen=True, slots=True)
class ContentHashes:
    """Hashes of one piece of content, by signal name, and the signals that failed."""

    hashes: dict[str, SignalHash] = field(default_factory=dict)
    errors: dict[str, ContentError] = field(default_factory=dict)
    image: ImageInfo | None = None

    def value(self, signal: str) -> str | None:
        """The hash for ``signal``, when it was computed."""
        h = self.hashes.get(signal)
        return None if h is None else h.value


def hash_content(
    data: bytes,
    *,
    signals: Sequence[type[SignalType]] | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS,
    fast: bool = False,
    dihedral: bool = False,
) -> ContentHashes:
    """Hash ``data`` with ``signals`` (default: every registered signal type).

    ``fast`` decodes JPEGs in draft mode (see :data:`FAST_MIN_SIDE`); without it the
    PDQ hash is exactly what ``pdqhash`` gives on the full RGB decode. ``dihedral`` adds
    the seven rotated/flipped PDQ variants to query with. A signal that fails (an image
    signal on bytes that are not a decodable image) is reported in ``errors`` while the
    others are still computed, so a corrupt file can still match an MD5 list.
    """
    content = Content(
        data, limits=limits, min_side=FAST_MIN_SIDE if fast else None, dihedral=dihedral
    )
    hashes: dict[str, SignalHash] = {}
    errors: dict[str, ContentError] = {}
    for st in signal_types() if signals is None else signals:
        try:
            hashes[st.name] = st.compute(content)
        except ContentError as exc:
            errors[st.name] = exc
    decoded = content.decoded_if_any()
    image = None
    if decoded is not None:
        image = ImageInfo(
            decoded.width, decoded.height, decoded.format, decoded.orientation, decoded.scale
        )
    return ContentHashes(hashes, errors, image)
