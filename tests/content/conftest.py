"""Fixtures for the content tests: small generated photos-like images (no shared data needed).

The images are random fields with the 1/f amplitude spectrum of natural photographs
(correlated across the three channels), so PDQ behaves on them as on photos: quality
100, unrelated hashes for distinct seeds (no pair within 100 bits), and the same
sensitivity to size and transforms.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ImageMaker = Callable[..., Image.Image]


def _make_image(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    freq = np.sqrt(fx * fx + fy * fy)
    freq[0, 0] = 1.0
    amplitude = 1.0 / freq  # natural images: amplitude falls off as 1/f
    amplitude[0, 0] = 0.0

    def field() -> np.ndarray:
        phases = np.exp(2j * np.pi * rng.random((h, w)))
        return np.real(np.fft.ifft2(amplitude * phases))

    shared = field()
    channels = []
    for _ in range(3):
        f = shared + 0.5 * field()
        lo, hi = np.percentile(f, [1, 99])
        channels.append((f - lo) / (hi - lo) * 255)
    rgb = np.stack(channels, axis=2).clip(0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


@pytest.fixture(scope="session")
def make_image() -> ImageMaker:
    """``make_image(seed, size=(w, h))``: a deterministic photo-like RGB image."""
    return _make_image


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def to_bytes() -> Callable[..., bytes]:
    """``to_bytes(image, fmt="JPEG", **save_params)``: the encoded file."""
    return encode


@pytest.fixture(scope="session")
def shared_images() -> Path | None:
    """``../shared/datasets/images`` when present (tests must also pass without it)."""
    here = Path(__file__).resolve()
    for base in (Path.cwd() / ".." / "shared", here.parents[3] / "shared"):
        d = base / "datasets" / "images"
        if (d / "manifest.csv").is_file():
            return d.resolve()
    return None
