"""Signal types: PDQ in the reference hex order, exact digests, variants, the registry."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps

from bastion.content import (
    Md5Signal,
    PdqSignal,
    Sha256Signal,
    UnsupportedFormat,
    get_signal_type,
    hash_content,
    signal_types,
)
from bastion.content.signals import DIHEDRAL_NAMES, pdq_bits_to_hex

ToBytes = Callable[..., bytes]
MakeImage = Callable[..., Image.Image]


def dist(a: str, b: str) -> int:
    return PdqSignal.distance(a, b)


def test_pdq_hex_uses_the_reference_bit_order() -> None:
    """pdqhash lists bit 255 first; the reference writes word 15 (bits 255..240) first."""
    top = np.zeros(256, dtype=np.uint8)
    top[0] = 1
    assert pdq_bits_to_hex(top) == "8" + "0" * 63
    low = np.zeros(256, dtype=np.uint8)
    low[255] = 1
    assert pdq_bits_to_hex(low) == "0" * 63 + "1"
    with pytest.raises(ValueError, match="256 bits"):
        pdq_bits_to_hex(np.zeros(255))


def test_pdq_hex_matches_threatexchange_conversion(make_image: MakeImage) -> None:
    """ThreatExchange's pdq_hasher: ``"%0*X" % (64, int("".join(bits), 2))``, lower-cased."""
    rgb = np.ascontiguousarray(np.asarray(make_image(20)))
    vector, _ = pdqhash.compute(rgb)
    bin_str = "".join(str(int(x)) for x in vector)
    threatexchange = ("%0*X" % ((len(bin_str) + 3) // 4, int(bin_str, 2))).lower()  # noqa: UP031
    assert pdq_bits_to_hex(vector) == threatexchange


def test_hashes_equal_the_shared_manifest(shared_images: Path | None) -> None:
    """The dataset's manifest was computed with pdqhash on Pillow's RGB decode."""
    if shared_images is None:
        pytest.skip("../shared/datasets/images is not present")
    with open(shared_images / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows[::60]:
        data = (shared_images / row["path"]).read_bytes()
        result = hash_content(data)
        assert result.value("pdq") == row["pdq_hex"], row["path"]
        assert result.hashes["pdq"].quality == int(row["pdq_quality"])
        assert result.value("sha256") == row["sha256"]


def test_digests(make_image: MakeImage, to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(21))
    result = hash_content(data)
    assert result.value("md5") == hashlib.md5(data).hexdigest()
    assert result.value("sha256") == hashlib.sha256(data).hexdigest()
    assert result.image is not None and result.image.format == "JPEG"
    # Identical bytes, identical hashes; one changed byte, different digests.
    assert hash_content(data).hashes == result.hashes
    changed = data[:-3] + bytes([data[-3] ^ 1]) + data[-2:]
    assert hash_content(changed).value("sha256") != result.value("sha256")


def test_non_image_still_gets_digests() -> None:
    result = hash_content(b"just some text\n")
    assert isinstance(result.errors["pdq"], UnsupportedFormat)
    assert "pdq" not in result.hashes
    assert result.value("md5") == hashlib.md5(b"just some text\n").hexdigest()
    assert result.image is None


def test_low_quality_is_reported_not_matchable(to_bytes: ToBytes) -> None:
    flat = Image.new("RGB", (64, 64), (120, 130, 140))
    pdq = hash_content(to_bytes(flat, "PNG")).hashes["pdq"]
    assert pdq.quality < 50 and not pdq.matchable


def test_dihedral_variants_are_close_to_transformed_images(
    make_image: MakeImage, to_bytes: ToBytes
) -> None:
    image = make_image(22, (480, 320))  # small images (240x160) drift further, up to ~45
    pdq = hash_content(to_bytes(image, "PNG"), dihedral=True).hashes["pdq"]
    variants = dict(pdq.variants)
    assert tuple(variants) == DIHEDRAL_NAMES[1:]
    transposes = {
        "rotate90": Image.Transpose.ROTATE_90,
        "rotate180": Image.Transpose.ROTATE_180,
        "rotate270": Image.Transpose.ROTATE_270,
        "flip_vertical": Image.Transpose.FLIP_TOP_BOTTOM,
        "flip_horizontal": Image.Transpose.FLIP_LEFT_RIGHT,
        "transpose": Image.Transpose.TRANSPOSE,
        "transverse": Image.Transpose.TRANSVERSE,
    }
    for name, op in transposes.items():
        other = hash_content(to_bytes(image.transpose(op), "PNG")).hashes["pdq"].value
        assert dist(variants[name], other) <= 31, name
        assert dist(pdq.value, other) > 31, name


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_variant_matches_the_displayed_image(
    orientation: int, make_image: MakeImage, to_bytes: ToBytes
) -> None:
    image = make_image(23, (480, 320))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = to_bytes(image, quality=95, exif=exif.tobytes())
    pdq = hash_content(data).hashes["pdq"]
    # The main hash is of the stored pixels (what ThreatExchange computes) ...
    assert pdq.value == hash_content(to_bytes(image, quality=95)).hashes["pdq"].value
    # ... and one variant is of the image as displayed.
    ((name, variant),) = pdq.variants
    assert name == f"exif_orientation_{orientation}"
    with Image.open(io.BytesIO(data)) as opened:
        shown = ImageOps.exif_transpose(opened)
        displayed = hash_content(to_bytes(shown, "PNG")).hashes["pdq"].value
    assert dist(variant, displayed) <= 31


def test_registry_and_normalization() -> None:
    assert [st.name for st in signal_types()][:3] == ["pdq", "md5", "sha256"]
    assert get_signal_type("HASH_PDQ") is PdqSignal
    assert get_signal_type("video_md5") is Md5Signal
    assert get_signal_type(" SHA256 ") is Sha256Signal
    with pytest.raises(ValueError, match="known: pdq, md5, sha256"):
        get_signal_type("photodna")
    assert PdqSignal.normalize("0x" + "AB" * 32) == "ab" * 32
    assert Md5Signal.normalize(" " + "F" * 32 + "\n") == "f" * 32
    for bad in ("ab" * 31, "zz" * 32, ""):
        with pytest.raises(ValueError, match="expected 64 hex digits"):
            PdqSignal.normalize(bad)
    assert PdqSignal.distance("f" * 64, "0" * 64) == 256
    assert Sha256Signal.distance("a" * 64, "a" * 64) == 0
    assert Sha256Signal.distance("a" * 64, "b" * 64) == 1


def test_small_images_also_query_with_an_upscaled_hash(
    make_image: MakeImage, to_bytes: ToBytes
) -> None:
    image = make_image(24, (480, 320))
    original = hash_content(to_bytes(image, "PNG")).hashes["pdq"]
    assert original.variants == ()  # 320 pixels and up: no variant
    thumb = image.resize((120, 80), Image.Resampling.LANCZOS)
    small = hash_content(to_bytes(thumb, "PNG")).hashes["pdq"]
    variants = dict(small.variants)
    assert list(variants) == ["upscaled"]
    # The main hash stays the standard one ...
    rgb = np.ascontiguousarray(np.asarray(thumb))
    assert small.value == pdq_bits_to_hex(pdqhash.compute(rgb)[0])
    # ... and the upscaled one lands close to the original's.
    assert dist(variants["upscaled"], original.value) <= 20
    both = hash_content(to_bytes(thumb, "PNG"), dihedral=True).hashes["pdq"]
    names = [n for n, _ in both.variants]
    assert names == [
        *DIHEDRAL_NAMES[1:],
        "upscaled",
        *(f"upscaled_{n}" for n in DIHEDRAL_NAMES[1:]),
    ]
