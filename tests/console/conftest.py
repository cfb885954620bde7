"""Fixtures of the console's end-to-end tests: one seeded ``bastion serve`` and one
Chromium for the whole module (starting them is most of the suite's time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_kit import (
    LIBRARY,
    SKIMMER,
    Seeded,
    chromium_path,
    clean_artifacts,
    ensure_bundle,
    photo,
    running_server,
    script_host,
    seed,
    write_bank,
)
from playwright.sync_api import Browser, Page, Request, sync_playwright


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    bundle = ensure_bundle()
    workdir = tmp_path_factory.mktemp("console")
    write_bank(workdir / "banks", [photo(1), photo(2)])
    config = (
        'csp_fetch_allow = ["loopback"]\ncsp_fetch_interval_s = 0.2\n'
        "abuse_ip_rate = 1000\nabuse_ip_burst = 1000\n"
        "model_flush_s = 0.5\nanalytics_zone_refresh_s = 0.5\n"
    )
    with (
        script_host({"/skim.js": SKIMMER, "/lib.js": LIBRARY}) as scripts_base,
        running_server(workdir, bundle, config) as server,
    ):
        _ORIGIN[:] = [server.url + "/"]
        yield seed(server, scripts_base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: while Playwright's sync API is running it leaves an event
    # loop marked as running in the main thread, and later tests that call asyncio.run()
    # (the ASGI middleware tests) would fail.
    executable = chromium_path()
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    return clean_artifacts()


_ORIGIN: list[str] = []


def seeded_origin() -> str:
    return _ORIGIN[0] if _ORIGIN else "http://127.0.0.1:"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage) per test; console errors and CSP
    violations are collected on ``page.problems`` and fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))

    def same_origin_only(request: Request) -> None:
        # The console loads nothing from another origin (works offline, strict CSP).
        if not request.url.startswith((seeded_origin(), "data:", "about:")):
            problems.append(f"request to another origin: {request.url}")

    tab.on("request", same_origin_only)
    tab.problems = problems  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()
