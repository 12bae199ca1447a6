"""The traffic flow panel in a real browser: a chart per line from GET /api/flows, live bars from
/ws, both languages, and no panel for a role that sees no traffic cameras."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from ioc.api.auth import hash_password
from ioc.messages import FlowCount
from tests.dashboard.conftest import login, screenshot
from tests.dashboard.live_site import PASSWORD, LiveSite

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def flow(minutes_ago: int, counts: dict[tuple[str, str], int]) -> FlowCount:
    start = (int(time.time()) // 60 - minutes_ago) * 60
    return FlowCount.model_validate(
        {
            "camera_id": "junction-2",
            "category": "traffic",
            "rule_id": "stop",
            "line_id": "stop-line",
            "interval_seconds": 60,
            "started_at": datetime.fromtimestamp(start, tz=UTC),
            "ended_at": datetime.fromtimestamp(start + 60, tz=UTC),
            "counts": [{"object_class": c, "direction": d, "count": n} for (c, d), n in counts.items()],
        }
    )


def wait_stored(site: LiveSite, count: int) -> None:
    from ioc.store.base import FlowQuery

    deadline = time.monotonic() + 5
    while len(site.store.query_flows(FlowQuery())) < count:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_traffic_user_sees_a_chart_per_line_that_grows_live(page: Page, site: LiveSite) -> None:
    site.store.add_user("tra", "traffic", hash_password(PASSWORD), datetime.now(UTC))
    site.bus.publish(flow(3, {("car", "in"): 4, ("motorcycle", "in"): 9, ("car", "out"): 2}))
    site.bus.publish(flow(2, {("car", "in"): 1}))
    wait_stored(site, 2)
    login(page, site, "tra")
    panel = page.get_by_test_id("flows-panel")
    expect(panel).to_be_visible()
    line = page.locator("[data-testid=flow-line][data-camera=junction-2][data-line=stop-line]")
    expect(line).to_have_count(1)
    expect(line.get_by_test_id("flow-chart")).to_have_attribute("data-bars", "2")
    expect(line).to_contain_text("Ngã tư Đinh Tiên Hoàng · stop-line")
    expect(line.get_by_test_id("flow-latest")).to_have_text("Vào 1 · Ra 0 / 60 giây")

    site.bus.publish(flow(1, {("bus", "out"): 3, ("car", "in"): 6}))  # live over /ws
    expect(line.get_by_test_id("flow-chart")).to_have_attribute("data-bars", "3")
    expect(line.get_by_test_id("flow-latest")).to_have_text("Vào 6 · Ra 3 / 60 giây")
    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("#flows-panel .panel-title")).to_have_text("Traffic flow")
    expect(line.get_by_test_id("flow-latest")).to_have_text("In 6 · Out 3 / 60 s")
    screenshot(page, "flows-traffic-1920x1080-en.png")


@pytest.mark.parametrize(("user", "shown"), [("cop", False), ("op1", True)])
def test_the_panel_follows_the_role(page: Page, site: LiveSite, user: str, shown: bool) -> None:
    site.bus.publish(flow(1, {("car", "in"): 4}))
    wait_stored(site, 1)
    login(page, site, user)
    panel = page.get_by_test_id("flows-panel")
    if shown:  # an operator sees it once there are counts
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("flow-line")).to_have_count(1)
    else:
        expect(page.get_by_test_id("login-screen")).to_be_hidden()
        expect(panel).to_be_hidden()


def test_merge_keeps_the_newest_intervals_and_replaces_a_resent_one(page: Page, site: LiveSite) -> None:
    page.goto(site.url)
    got = page.evaluate(
        """async () => {
            const m = await import('/js/flows.js');
            const lines = new Map();
            const at = (i) => new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
            const flow = (i, n) => ({camera_id: 'c', rule_id: 'r', line_id: 'l', interval_seconds: 60,
                started_at: at(i), ended_at: at(i + 1),
                counts: [{object_class: 'car', direction: 'in', count: n}]});
            for (let i = 0; i < m.MAX_BARS + 5; i++) m.mergeFlow(lines, flow(i, 1));
            m.mergeFlow(lines, flow(m.MAX_BARS + 4, 7));
            const line = lines.get(m.lineKey(flow(0, 0)));
            const bars = m.bars(line.intervals.values(), 300, 64);
            return {size: line.intervals.size, first: [...line.intervals.keys()].sort()[0] === at(5),
                    last: bars[bars.length - 1].inHeight, other: bars[0].inHeight, x: bars[0].x};
        }"""
    )
    assert got["size"] == 30 and got["first"]
    assert got["last"] == pytest.approx(30.0)  # the peak fills half the chart less 2 units
    assert got["other"] == pytest.approx(30.0 / 7)
    assert got["x"] == pytest.approx(1.0)
