"""Fixtures for the service tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_kit import Service, make_service

from bastion.waf.scorer import Scorer, load_scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def service(tmp_path: Path, scorer: Scorer) -> Iterator[Service]:
    yield from make_service(tmp_path, scorer)
