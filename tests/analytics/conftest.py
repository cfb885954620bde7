"""Fixtures for the analytics tests: a store on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.store.analytics import AnalyticsStore, open_analytics

ENGINES = ["duckdb-memory", "duckdb-file", "duckdb-exclusive", "chdb"]


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnalyticsStore]:
    kind = request.param
    if kind == "duckdb-memory":
        url = "duckdb:///:memory:"
    elif kind == "duckdb-file":
        url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    elif kind == "duckdb-exclusive":
        s = open_analytics(f"duckdb:///{tmp_path / 'x.duckdb'}", exclusive=True)
        yield s
        s.close()
        return
    else:
        url = f"chdb:///{tmp_path / 'chdb'}"
    s = open_analytics(url)
    yield s
    s.close()
