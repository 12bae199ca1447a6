"""The wall display in a real browser against the real API, bus, store and events stage."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from ioc.ingest.reasons import Reason
from ioc.messages import CameraState
from ioc.messages import ReasonCode as R
from tests.dashboard.conftest import UHD, login, screenshot
from tests.dashboard.live_site import LiveSite

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HANOI = timezone(timedelta(hours=7))


def alert_item(page: Page, alert_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"[data-testid=alert-item][data-alert-id='{alert_id}']")


def natural_width(page: Page, selector: str) -> int:
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=locator.element_handle())
    return int(locator.evaluate("el => el.naturalWidth"))


def test_operator_sees_acknowledges_and_switches_language(page: Page, site: LiveSite) -> None:
    for cam, state, reason, fps in [
        ("gate-1", CameraState.ONLINE, None, 5.0),
        ("junction-2", CameraState.ONLINE, None, 4.8),
        ("square-3", CameraState.STALLED, Reason.of(R.NO_FRAME, n=12), None),
        ("depot-4", CameraState.OFFLINE, Reason.of(R.OTHER, detail="RTSP connection refused"), None),
    ]:
        site.camera_status(cam, state, reason=reason, fps=fps)
    earlier = site.raise_alert("gate-1", "linger", track_id=8, value=42.0, value_unit="s")
    crossing = site.raise_alert("junction-2", "stop", track_id=10, direction="in")
    site.wait_seq(crossing.seq or 0)

    page.goto(site.url)
    expect(page.get_by_test_id("login-screen")).to_be_visible()
    expect(page.get_by_test_id("login-submit")).to_have_text("Đăng nhập")
    screenshot(page, "login-1920x1080-vi.png")
    login(page, site, "op1")
    expect(page.get_by_test_id("user-name")).to_have_text("op1")
    expect(page.get_by_test_id("user-role")).to_have_text("Điều hành viên")
    expect(page.get_by_test_id("admin-tools")).to_be_hidden()

    # Loaded from GET /api/alerts: newest first, severity, rule type, camera, value and direction.
    expect(page.get_by_test_id("alert-item")).to_have_count(2)
    expect(page.get_by_test_id("alert-item").first).to_have_attribute("data-alert-id", crossing.id)
    expect(alert_item(page, earlier.id)).to_have_attribute("data-severity", "warning")
    expect(alert_item(page, earlier.id).get_by_test_id("alert-type")).to_have_text("Lảng vảng")
    expect(alert_item(page, earlier.id).get_by_test_id("alert-value")).to_have_text("42 s")
    expect(alert_item(page, crossing.id).get_by_test_id("alert-value")).to_contain_text("Vào")
    expect(alert_item(page, crossing.id).get_by_test_id("alert-camera")).to_have_text(
        "Ngã tư Đinh Tiên Hoàng"
    )

    # A critical alert arrives live over /ws: feed, thumbnail, banner, pulsing map marker.
    expect(page.get_by_test_id("critical-banner")).to_be_hidden()
    critical = site.raise_alert("gate-1", "no-entry", track_id=7)
    item = alert_item(page, critical.id)
    expect(item).to_have_attribute("data-severity", "critical")
    expect(page.get_by_test_id("alert-item").first).to_have_attribute("data-alert-id", critical.id)
    assert natural_width(page, f"[data-alert-id='{critical.id}'] [data-testid=alert-thumb]") > 0
    expect(page.get_by_test_id("critical-banner")).to_be_visible()
    expect(page.get_by_test_id("critical-banner-text")).to_contain_text("Cổng Đền Ngọc Sơn")
    expect(page.locator("body")).to_have_attribute("data-beeps", "1")  # WebAudio, unlocked by the login click
    expect(page.locator("[data-testid=map-marker][data-camera-id=gate-1]")).to_have_attribute(
        "data-alert", "critical"
    )
    expect(page.locator("[data-testid=map-marker][data-camera-id=square-3]")).to_have_attribute(
        "data-alert", "none"
    )
    expect(page.locator("[data-testid=map-marker][data-camera-id=junction-2]")).to_have_attribute(
        "data-alert",
        "none",  # a line crossing is an instant info event: never open
    )
    expect(page.locator("[data-testid=camera-tile][data-camera-id=gate-1]")).to_have_attribute(
        "data-alert", "critical"
    )

    # Health strip and tiles reflect camera status; the map shows where cameras stand.
    expect(page.locator("[data-testid=health-item][data-camera-id=depot-4]")).to_contain_text("Mất kết nối")
    expect(page.locator("[data-testid=health-item][data-camera-id=depot-4]")).to_contain_text(
        "RTSP connection refused"
    )
    expect(page.locator("[data-testid=health-item][data-camera-id=square-3]")).to_contain_text("Đứng hình")
    expect(page.locator("[data-testid=health-item][data-camera-id=square-3]")).to_contain_text(
        "không có khung hình trong 12 giây"  # the reader's reason, translated
    )
    expect(page.get_by_test_id("health-summary")).to_have_text("2/4 trực tuyến")
    expect(page.get_by_test_id("health-item").first).to_have_attribute("data-camera-id", "depot-4")
    expect(
        page.locator("[data-testid=camera-tile][data-camera-id=gate-1] [data-testid=tile-fps]")
    ).to_have_text("5 fps")
    assert (
        natural_width(page, "[data-testid=camera-tile][data-camera-id=gate-1] [data-testid=tile-frame]") > 0
    )
    expect(page.get_by_test_id("map-marker")).to_have_count(3)  # depot-4 has no location
    expect(page.get_by_test_id("kpi-none")).to_have_text("Chưa kết nối nguồn KPI")
    site.kpi(
        "public_service",
        {
            "on_time": ("Tỉ lệ đúng hạn", "On-time rate", 93.4, "%", False),
            "overdue": ("Hồ sơ quá hạn", "Overdue dossiers", 12, None, True),
            "open": ("Đang xử lý", "Open", 148, None, False),
        },
    )
    expect(page.get_by_test_id("kpi-value")).to_have_count(3)
    expect(page.locator("[data-testid=kpi-value][data-key=overdue]")).to_have_attribute(
        "data-warning", "true"
    )
    expect(page.locator("[data-testid=kpi-value][data-key=on_time]")).to_contain_text("93,4")
    # The feed's "open" count is the server's (all alerts in the store), not the loaded page's.
    expect(page.get_by_test_id("feed-count")).to_have_text("— đang mở")
    site.kpi("operations", {"open_alerts": ("Cảnh báo đang mở", "Open alerts", 789, None, False)})
    expect(page.get_by_test_id("feed-count")).to_have_text("789 đang mở")
    operations = page.locator("[data-testid=kpi-source][data-source=operations]")
    expect(operations.locator(".kpi-source-title")).to_contain_text("Vận hành")  # not "operations"
    # The feed's message wraps to two lines instead of being cut after a few words.
    assert page.locator(".alert-msg").first.evaluate("e => getComputedStyle(e).webkitLineClamp") == "2"
    _clock_shows_hanoi_time(page)
    screenshot(page, "wall-1920x1080-vi.png")

    # Detail: large snapshot, every field, message in Vietnamese, history; then Ack.
    item.click()
    detail = page.get_by_test_id("alert-detail")
    expect(detail).to_be_visible()
    assert natural_width(page, "[data-testid=detail-snapshot]") > 0
    expect(detail.get_by_test_id("detail-message")).to_have_text(critical.message.vi)
    expect(detail.get_by_test_id("detail-fields")).to_contain_text("Khẩn cấp")
    expect(detail.get_by_test_id("detail-fields")).to_contain_text("Khu vực cấm (restricted)")
    expect(detail.get_by_test_id("detail-history")).to_contain_text("Sự kiện")
    screenshot(page, "detail-1920x1080-vi.png")
    detail.get_by_test_id("action-ack").click()
    expect(detail.get_by_test_id("action-done")).to_contain_text("Đã xác nhận bởi op1")
    expect(detail.get_by_test_id("detail-status")).to_have_text("Đã xác nhận · op1")
    expect(detail.get_by_test_id("action-ack")).to_be_disabled()
    expect(detail.get_by_test_id("detail-history")).to_contain_text("op1")
    expect(item.get_by_test_id("alert-status")).to_have_text("Đã xác nhận · op1")
    expect(page.get_by_test_id("critical-banner")).to_be_hidden()
    stored = site.store.get_alert(critical.id)
    assert stored is not None and stored.acknowledged_by == "op1"
    screenshot(page, "detail-acknowledged-1920x1080-vi.png")

    # Assign and resolve the loitering alert; every wall learns it through the bus.
    page.keyboard.press("Escape")
    alert_item(page, earlier.id).click()
    detail.get_by_test_id("assign-input").fill("boss")
    detail.get_by_test_id("action-assign").click()
    expect(detail.get_by_test_id("action-done")).to_have_text("Đã giao cho boss")
    detail.get_by_test_id("resolve-note").fill("Bảo vệ đã mời ra")
    detail.get_by_test_id("action-resolve").click()
    expect(detail.get_by_test_id("action-done").last).to_contain_text("Đã xử lý bởi op1")
    expect(detail.get_by_test_id("detail-history")).to_contain_text("Bảo vệ đã mời ra")
    expect(alert_item(page, earlier.id)).to_have_attribute("data-status", "resolved")
    page.keyboard.press("Escape")
    item.click()

    # Language switch (key L while the modal is open): texts change, the detail shows the English
    # message, and the choice is kept across a reload.
    page.keyboard.press("l")
    expect(detail.get_by_test_id("detail-message")).to_have_text(critical.message.en)
    expect(detail.get_by_test_id("action-done")).to_contain_text("Acknowledged by op1")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    expect(page.get_by_test_id("user-role")).to_have_text("Operator")
    expect(item.get_by_test_id("alert-type")).to_have_text("Intrusion")
    expect(page.locator("[data-testid=health-item][data-camera-id=depot-4]")).to_contain_text("Offline")
    expect(page.get_by_test_id("lang-toggle")).to_have_text("Tiếng Việt")
    screenshot(page, "wall-1920x1080-en.png")
    page.reload()
    page.locator("[data-testid=connection][data-state=live]").wait_for()
    expect(page.get_by_test_id("lang-toggle")).to_have_text("Tiếng Việt")
    expect(alert_item(page, critical.id).get_by_test_id("alert-status")).to_have_text("Acknowledged · op1")

    page.get_by_test_id("lang-toggle").click()
    page.set_viewport_size(UHD)
    expect(page.get_by_test_id("alert-item")).to_have_count(3)
    page.wait_for_timeout(800)  # tiles and map re-layout at the new size
    screenshot(page, "wall-3840x2160-vi.png")


def _clock_shows_hanoi_time(page: Page) -> None:
    """The browser runs in Europe/Paris; the wall clock must still read Asia/Ho_Chi_Minh."""
    shown = page.get_by_test_id("clock").locator(".clock-time").inner_text()
    now = datetime.now(UTC).astimezone(HANOI)
    candidates = {(now + timedelta(seconds=d)).strftime("%H:%M:%S") for d in range(-3, 2)}
    assert shown in candidates, f"clock shows {shown}, Hanoi time is {now:%H:%M:%S}"


@pytest.mark.parametrize(
    ("username", "role_text", "admin_tools", "can_act", "cameras"),
    [
        ("boss", "Quản trị", True, True, 4),
        ("op1", "Điều hành viên", False, True, 4),
        ("cop", "Công an", False, False, 2),  # police see security cameras only
    ],
)
def test_role_awareness(
    page: Page, site: LiveSite, username: str, role_text: str, admin_tools: bool, can_act: bool, cameras: int
) -> None:
    alert = site.raise_alert("gate-1", "linger", track_id=8, value=31.0, value_unit="s")
    site.wait_seq(alert.seq or 0)
    login(page, site, username)
    expect(page.get_by_test_id("user-role")).to_have_text(role_text)
    expect(page.get_by_test_id("admin-tools")).to_be_visible() if admin_tools else expect(
        page.get_by_test_id("admin-tools")
    ).to_be_hidden()
    expect(page.get_by_test_id("camera-tile")).to_have_count(cameras)
    alert_item(page, alert.id).click()
    detail = page.get_by_test_id("alert-detail")
    if can_act:
        expect(detail.get_by_test_id("action-ack")).to_be_enabled()
        expect(detail.get_by_test_id("action-readonly")).to_have_count(0)
    else:
        expect(detail.get_by_test_id("action-ack")).to_have_count(0)
        expect(detail.get_by_test_id("action-readonly")).to_contain_text("Công an")
    if admin_tools:
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Người dùng").click()
        expect(page.get_by_test_id("users-dialog")).to_contain_text("cop")


def test_wrong_password_is_refused(page: Page, site: LiveSite) -> None:
    page.goto(site.url)
    page.get_by_test_id("login-username").fill("op1")
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu")
    expect(page.get_by_test_id("wall")).to_be_hidden()


def test_reconnects_and_resumes_from_last_seq(page: Page, site: LiveSite) -> None:
    first = site.raise_alert("gate-1", "linger", track_id=8, value=35.0, value_unit="s")
    site.wait_seq(first.seq or 0)
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    login(page, site, "op1")
    expect(alert_item(page, first.id)).to_be_visible()
    assert re.search(rf"last_seq={first.seq}\b", urls[0]), urls

    # Drop the connection from the client side, publish while the wall is away, watch it catch up.
    page.evaluate("window.ioc.live.ws.close(4000, 'test drop')")
    expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", re.compile("reconnecting|connecting")
    )
    missed = site.raise_alert("junction-2", "stop", track_id=10, direction="out")
    expect(alert_item(page, missed.id)).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    assert len(urls) >= 2, urls
    assert re.search(rf"last_seq={first.seq}\b", urls[1]), urls
    expect(page.get_by_test_id("alert-item")).to_have_count(2)


def test_survives_a_server_restart(page: Page, site: LiveSite) -> None:
    first = site.raise_alert("gate-1", "linger", track_id=8, value=33.0, value_unit="s")
    site.wait_seq(first.seq or 0)
    login(page, site, "op1")
    expect(alert_item(page, first.id)).to_be_visible()

    site.http.stop()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting")
    expect(page.get_by_test_id("connection")).to_contain_text("thử lại sau")
    during = site.raise_alert("junction-2", "stop", track_id=10, direction="in")  # stored while away
    site.wait_seq(during.seq or 0)
    site.http.start()

    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(alert_item(page, during.id)).to_be_visible()
    after = site.raise_alert("gate-1", "no-entry", track_id=7)
    expect(alert_item(page, after.id)).to_be_visible()
    expect(page.get_by_test_id("alert-item")).to_have_count(3)
