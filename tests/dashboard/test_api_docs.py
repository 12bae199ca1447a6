"""/docs renders in a browser that can reach nothing but the server (a closed network)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.dashboard.live_site import LiveSite

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_swagger_ui_renders_offline(browser: Browser, site: LiveSite) -> None:
    page = browser.new_page()
    elsewhere: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.route("**/*", only_the_server)
    page.goto(site.url + "/docs")
    expect(page.locator(".information-container .title")).to_contain_text(
        "IOC video analytics", timeout=15_000
    )
    page.locator(".opblock-summary").first.click()  # expand an operation: more of the UI renders
    page.wait_for_timeout(300)
    page.close()
    assert elsewhere == []
    assert console == [], f"console errors under the Content-Security-Policy: {console}"
