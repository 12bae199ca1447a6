"""Browser fixtures: Debian Chromium driven by Playwright against the real API (see live_site.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright

from tests.dashboard.live_site import PASSWORD, LiveSite, StillFrames, live_site, site_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
UHD: ViewportSize = {"width": 3840, "height": 2160}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LiveSite]:
    """The real API with a still-frame engine view; swap in the pipeline's Engine for end to end."""
    with live_site(tmp_path, engine=StillFrames(site_config())) as running:
        yield running


EXPECTED_ERRORS = (
    "Failed to load resource: the server responded with a status of 4",
    "Failed to load resource: net::ERR_CONNECTION_REFUSED",
)
"""Chromium logs every 4xx answer (a wrong password's 401, a frame not there yet) and every
request to a stopped server (the restart test): those are the tests' doing. A 5xx, a script
error or a Content-Security-Policy violation fails the test."""


def _is_error(msg: ConsoleMessage) -> bool:
    return msg.type == "error" and not msg.text.startswith(EXPECTED_ERRORS)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=FULL_HD, locale="vi-VN", timezone_id="Europe/Paris")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if _is_error(msg) else None)
    page.set_default_timeout(10_000)
    yield page
    seen = list(errors)  # what the test saw (not reconnect attempts after the server stopped)
    context.close()
    assert seen == [], f"errors in the dashboard's console (CSP violations included): {seen}"


def login(page: Page, site: LiveSite, username: str, password: str = PASSWORD) -> None:
    page.goto(site.url)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.locator("[data-testid=connection][data-state=live]").wait_for()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path
