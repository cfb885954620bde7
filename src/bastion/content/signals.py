"""Signal types: how content is hashed and how two hashes of one type are compared.

A signal type is a class with class methods only; new ones are added with
:func:`register_signal_type`. The built-in ones:

* ``pdq``: Meta's 256-bit perceptual photo hash (``pdqhash``), Hamming distance,
  64 lower-case hex digits in the reference bit order, with a quality score 0-100.
* ``md5`` and ``sha256``: exact digests of the bytes as served.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from bastion.content.decode import DEFAULT_LIMITS, DecodedImage, DecodeLimits, decode_image
from bastion.content.errors import ContentError

if TYPE_CHECKING:
    from bastion.content.index import SignalIndex

__all__ = [
    "DIHEDRAL_NAMES",
    "PDQ_QUALITY_THRESHOLD",
    "Content",
    "Md5Signal",
    "PdqSignal",
    "Sha256Signal",
    "SignalHash",
    "SignalType",
    "get_signal_type",
    "pdq_bits_to_hex",
    "register_signal_type",
    "signal_types",
]

#: PDQ hashes below this quality are reported but never matched (as ThreatExchange does).
PDQ_QUALITY_THRESHOLD: Final = 50

#: Names of the eight dihedral variants, in the order ``pdqhash.compute_dihedral`` returns
#: them; each is (close to) the hash of the image transformed by the named PIL transpose.
DIHEDRAL_NAMES: Final = (
    "original",
    "rotate90",  # PIL ROTATE_90 (counter-clockwise)
    "rotate180",
    "rotate270",
    "flip_vertical",  # PIL FLIP_TOP_BOTTOM
    "flip_horizontal",  # PIL FLIP_LEFT_RIGHT (mirror)
    "transpose",
    "transverse",
)

#: Images with a shorter side below this get an "upscaled" query variant (see PdqSignal).
UPSCALE_BELOW: Final = 320
_MAX_UPSCALE: Final = 16

#: EXIF orientation -> the dihedral variant that shows the image as a viewer displays it
#: (the transpose ``PIL.ImageOps.exif_transpose`` applies).
_EXIF_VARIANT: Final = {2: 5, 3: 2, 4: 4, 5: 6, 6: 3, 7: 7, 8: 1}


@dataclass(frozen=True, slots=True)
class SignalHash:
    """One hash of one piece of content."""

    signal: str
    value: str
    quality: int = 100
    variants: tuple[tuple[str, str], ...] = ()
    """Extra hashes to query with, as (name, value): dihedral or EXIF-oriented variants."""

    @property
    def matchable(self) -> bool:
        """Whether the hash is good enough to match (PDQ quality >= 50)."""
        return self.quality >= PDQ_QUALITY_THRESHOLD


class Content:
    """Bytes to hash, with the image decoded once, lazily, for the signals that need it."""

    def __init__(
        self,
        data: bytes,
        *,
        limits: DecodeLimits = DEFAULT_LIMITS,
        min_side: int | None = None,
        dihedral: bool = False,
    ) -> None:
        self.data = data
        self.limits = limits
        self.min_side = min_side
        self.dihedral = dihedral
        self._image: DecodedImage | ContentError | None = None

    @property
    def image(self) -> DecodedImage:
        """The decoded image; raises the same ``ContentError`` each time it cannot be."""
        if self._image is None:
            try:
                self._image = decode_image(self.data, self.limits, min_side=self.min_side)
            except ContentError as exc:
                self._image = exc
        if isinstance(self._image, ContentError):
            raise type(self._image)(*self._image.args)
        return self._image

    def decoded_if_any(self) -> DecodedImage | None:
        """The decoded image when a signal already decoded it successfully, else ``None``."""
        return self._image if isinstance(self._image, DecodedImage) else None


class SignalType(ABC):
    """A kind of hash. Subclasses are used as classes, never instantiated."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Default match distance for banks of this type (0 = exact).
    default_distance: ClassVar[int] = 0
    #: Whether computing the hash needs the decoded image (so it can fail on bad images).
    needs_image: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def normalize(cls, value: str) -> str:
        """The canonical spelling of a hash; ``ValueError`` when it is not one."""

    @classmethod
    @abstractmethod
    def distance(cls, a: str, b: str) -> int:
        """Distance between two normalized hashes (0 = identical)."""

    @classmethod
    @abstractmethod
    def compute(cls, content: Content) -> SignalHash:
        """Hash ``content``; may raise ``ContentError``."""

    @classmethod
    @abstractmethod
    def new_index(cls) -> SignalIndex:
        """An empty, live-updatable index for hashes of this type."""


_HEX_RE: Final = re.compile(r"[0-9a-f]+")


def _normalize_hex(value: str, digits: int, what: str) -> str:
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) != digits or not _HEX_RE.fullmatch(text):
        raise ValueError(f"invalid {what} hash {value[:80]!r}: expected {digits} hex digits")
    return text


def pdq_bits_to_hex(bits: npt.ArrayLike) -> str:
    """Hex form of a 256-bit vector as ``pdqhash`` returns it.

    ``pdqhash`` lists the bits from bit 255 down to bit 0, so packing them big-endian gives
    the reference ``toHexString`` order (words 15 down to 0, four hex digits each), the
    same string ThreatExchange's ``pdq_hasher`` builds with ``int(bits, 2)``.
    """
    vector = np.asarray(bits, dtype=np.uint8).reshape(-1)
    if vector.size != 256:
        raise ValueError(f"a PDQ hash has 256 bits, got {vector.size}")
    return np.packbits(vector).tobytes().hex()


def _pdq_hashes(
    rgb: npt.NDArray[np.uint8], dihedral: bool, orientation: int
) -> tuple[str, int, tuple[tuple[str, str], ...]]:
    """(hash, quality, variants) of ``rgb``: all dihedral variants when asked, else the
    EXIF-displayed orientation when the image has one."""
    if not dihedral and orientation == 1:
        vector, quality = pdqhash.compute(rgb)
        return pdq_bits_to_hex(vector), int(quality), ()
    vectors, quality = pdqhash.compute_dihedral(rgb)
    hexes = [pdq_bits_to_hex(v) for v in vectors]
    if dihedral:
        return hexes[0], int(quality), tuple(zip(DIHEDRAL_NAMES[1:], hexes[1:], strict=True))
    k = _EXIF_VARIANT[orientation]
    return hexes[0], int(quality), ((f"exif_orientation_{orientation}", hexes[k]),)


class PdqSignal(SignalType):
    """PDQ perceptual hash of the decoded RGB pixels.

    The hash is always the standard one (``pdqhash`` on the stored pixels). Extra query
    variants: the dihedral ones on request, the EXIF-displayed orientation, and, for
    images whose shorter side is under :data:`UPSCALE_BELOW` pixels, the hash of a
    bicubic upscale to about that size (so thumbnails match their originals).
    """

    name = "pdq"
    aliases = ("hash_pdq", "photo_pdq", "pdq_photo")
    default_distance = 31
    needs_image = True

    @classmethod
    def normalize(cls, value: str) -> str:
        return _normalize_hex(value, 64, "PDQ")

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()

    @classmethod
    def compute(cls, content: Content) -> SignalHash:
        image = content.image
        main, quality, variants = _pdq_hashes(image.rgb, content.dihedral, image.orientation)
        small = min(image.rgb.shape[:2])
        if small < UPSCALE_BELOW:
            # PDQ drifts on small copies of larger images (a thumbnail's hash is often over
            # 31 from the original's); upscaled, the thumbnail hashes like the original.
            factor = min(-(-UPSCALE_BELOW // small), _MAX_UPSCALE)
            h, w = image.rgb.shape[:2]
            big = Image.fromarray(image.rgb).resize(
                (w * factor, h * factor), Image.Resampling.BICUBIC
            )
            up, _, up_variants = _pdq_hashes(
                np.ascontiguousarray(np.asarray(big)), content.dihedral, image.orientation
            )
            variants += (("upscaled", up),)
            variants += tuple((f"upscaled_{name}", value) for name, value in up_variants)
        return SignalHash(cls.name, main, quality, variants)

    @classmethod
    def new_index(cls) -> SignalIndex:
        from bastion.content.index import PdqLiveIndex

        return PdqLiveIndex()


class _DigestSignal(SignalType):
    digits: ClassVar[int]

    @classmethod
    def normalize(cls, value: str) -> str:
        return _normalize_hex(value, cls.digits, cls.name.upper())

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return 0 if a == b else 1

    @classmethod
    def compute(cls, content: Content) -> SignalHash:
        return SignalHash(cls.name, hashlib.new(cls.name, content.data).hexdigest())

    @classmethod
    def new_index(cls) -> SignalIndex:
        from bastion.content.index import ExactIndex

        return ExactIndex()


class Md5Signal(_DigestSignal):
    """MD5 of the bytes (exact match; common in NCMEC and video hash lists)."""

    name = "md5"
    aliases = ("hash_md5", "video_md5", "hash_video_md5")
    digits = 32


class Sha256Signal(_DigestSignal):
    """SHA-256 of the bytes (exact match)."""

    name = "sha256"
    aliases = ("hash_sha256", "sha-256")
    digits = 64


_REGISTRY: dict[str, type[SignalType]] = {}
_ORDER: list[type[SignalType]] = []


def register_signal_type(cls: type[SignalType]) -> type[SignalType]:
    """Make ``cls`` known by its name and aliases (case-insensitive)."""
    for key in (cls.name, *cls.aliases):
        other = _REGISTRY.get(key.lower())
        if other is not None and other is not cls:
            raise ValueError(f"signal type name {key!r} is already taken by {other.name}")
    for key in (cls.name, *cls.aliases):
        _REGISTRY[key.lower()] = cls
    if cls not in _ORDER:
        _ORDER.append(cls)
    return cls


def get_signal_type(name: str) -> type[SignalType]:
    """The signal type called ``name`` (or one of its aliases); ``ValueError`` otherwise."""
    cls = _REGISTRY.get(name.strip().lower())
    if cls is None:
        known = ", ".join(c.name for c in _ORDER)
        raise ValueError(f"unknown signal type {name!r} (known: {known})")
    return cls


def signal_types() -> tuple[type[SignalType], ...]:
    """All registered signal types, in registration order."""
    return tuple(_ORDER)


for _cls in (PdqSignal, Md5Signal, Sha256Signal):
    register_signal_type(_cls)
