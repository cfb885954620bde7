"""Helpers for content service tests: generated images and a bank holding one of them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from bastion.content import Bank, CsvDirectoryStore, Entry, Matcher, hash_content


def photo(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG with smooth structure (a good PDQ quality), different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy = rng.uniform(0.005, 0.05, 2).tolist()
        phase = rng.uniform(0, 6.28)
        channels.append(127 + 120 * np.sin(x * fx + y * fy + phase))
    rgb = np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def bank_of(name: str, images: list[bytes]) -> Bank:
    bank = Bank(name, "pdq")
    for i, data in enumerate(images):
        value = hash_content(data).value("pdq")
        assert value is not None
        bank.add(Entry(value, indicator_id=f"ind-{i}", descriptor_id=f"desc-{i}"))
    return bank


def matcher_of(images: list[bytes]) -> Matcher:
    return Matcher([bank_of("known", images)])


def write_banks(banks_dir: Path, images: list[bytes]) -> None:
    CsvDirectoryStore(banks_dir).save(bank_of("known", images))
