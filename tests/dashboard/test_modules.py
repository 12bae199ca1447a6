"""The dashboard's pure functions, run in the real browser on the modules the wall loads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from ioc.ingest.reasons import Reason
from ioc.messages import CameraState, CameraStatus
from ioc.messages import ReasonCode as R
from tests.dashboard.live_site import live_site

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def modules_page(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with live_site(Path(tmp_path_factory.mktemp("modules"))) as site:
        page = browser.new_page()
        page.goto(site.url)
        yield page
        page.close()


def run(page: Page, module: str, body: str, arg: Any = None) -> Any:
    """Evaluate `body` (a function of `m`, the imported module, and `arg`) in the page."""
    return page.evaluate(
        f"async (arg) => {{ const m = await import('/js/{module}'); return ({body})(m, arg); }}", arg
    )


@pytest.mark.parametrize(
    ("count", "width", "height", "cols"),
    [
        (1, 800, 450, 1),
        (2, 1600, 450, 2),
        (3, 900, 1600, 1),  # a tall panel stacks tiles
        (4, 1600, 900, 2),
        (16, 1920, 1080, 4),
        (40, 880, 900, 5),  # 5×8 tiles of 176 px beat 6×7 of 147 px
    ],
)
def test_best_columns(modules_page: Page, count: int, width: int, height: int, cols: int) -> None:
    got = run(modules_page, "cameras.js", "(m, a) => m.bestColumns(a[0], a[1], a[2])", [count, width, height])
    assert got == cols


def test_projection_fits_the_cameras_north_up(modules_page: Page) -> None:
    points = [
        {"lat": 21.0307, "lon": 105.8524},
        {"lat": 21.0287, "lon": 105.8536},
        {"lat": 21.0318, "lon": 105.8510},
    ]
    xy = run(
        modules_page,
        "map.js",
        "(m, pts) => { const p = m.fitProjection(pts, 400, 300); return pts.map((q) => p(q.lat, q.lon)); }",
        points,
    )
    for x, y in xy:
        assert 0 < x < 400 and 0 < y < 300
    assert xy[2][0] < xy[0][0] < xy[1][0]  # west to east, left to right
    assert xy[2][1] < xy[0][1] < xy[1][1]  # north to south, top to bottom
    spans = (max(p[0] for p in xy) - min(p[0] for p in xy), max(p[1] for p in xy) - min(p[1] for p in xy))
    assert max(spans[0] / 400, spans[1] / 300) > 0.7  # fills the view, up to the padding


def test_single_camera_sits_in_the_middle(modules_page: Page) -> None:
    xy = run(
        modules_page, "map.js", "(m) => m.fitProjection([{lat: 10.77, lon: 106.70}], 400, 300)(10.77, 106.70)"
    )
    assert xy == [200, 150]


@pytest.mark.parametrize(
    ("seqs", "kept_seq", "last_seq"),
    [
        ([3, 5], 5, 5),  # a newer record replaces the older one
        ([5, 3], 5, 5),  # a late, older record is ignored
        ([4, 4], 4, 4),  # the same record twice (replay after reconnect) is shown once
    ],
)
def test_alerts_merge_by_id_latest_seq_wins(
    modules_page: Page, seqs: list[int], kept_seq: int, last_seq: int
) -> None:
    got = run(
        modules_page,
        "state.js",
        """(m, seqs) => {
            const s = new m.WallState();
            let changes = 0;
            s.on("alert", () => { changes += 1; });
            const at = "2026-01-01T00:00:00Z";
            for (const seq of seqs) s.mergeAlert({id: "a", seq, started_at: at, status: "new"});
            return [s.alerts.size, s.alerts.get("a").seq, s.lastSeq, changes];
        }""",
        seqs,
    )
    assert got == [1, kept_seq, last_seq, 1 + (seqs[1] > seqs[0])]


@pytest.mark.parametrize(
    ("fields", "active"),
    [
        ({"status": "new", "severity": "warning", "state": "start"}, True),
        ({"status": "acknowledged", "severity": "warning", "state": "update"}, True),  # ongoing
        ({"status": "acknowledged", "severity": "warning", "state": "end", "ended_at": "x"}, False),
        ({"status": "new", "severity": "critical", "state": "end", "ended_at": "x"}, True),  # awaits ack
        ({"status": "new", "severity": "info", "state": "start"}, True),  # an ongoing info alert
        ({"status": "new", "severity": "info", "state": "start", "ended_at": "x"}, False),  # a crossing
        ({"status": "resolved", "severity": "critical", "state": "start"}, False),
    ],
)
def test_open_means_what_the_server_counts(modules_page: Page, fields: dict[str, str], active: bool) -> None:
    """The same cases as tests/kpi/test_operations.py::test_is_open."""
    assert run(modules_page, "state.js", "(m, a) => m.isActive(a)", fields) is active


@pytest.mark.parametrize(
    ("snapshots", "count"),
    [
        ([], None),
        ([{"source": "public_service", "values": [{"key": "open_alerts", "value": 3}]}], None),
        ([{"source": "operations", "values": [{"key": "open_alerts", "value": 789}]}], 789),
    ],
)
def test_feed_count_comes_from_the_operations_kpi(
    modules_page: Page, snapshots: list[dict[str, object]], count: int | None
) -> None:
    body = "(m, snaps) => m.openAlertCount(new Map(snaps.map((s) => [s.source, s])))"
    assert run(modules_page, "state.js", body, snapshots) == count


@pytest.mark.parametrize(
    ("alert", "vi", "en"),
    [
        (
            {"state": "start", "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:00+00:00"},
            "Sự kiện",
            "Event",
        ),  # a line crossing: one instant, not a start
        ({"state": "start", "started_at": "2026-01-01T00:00:00Z", "ended_at": None}, "Bắt đầu", "Started"),
        (
            {"state": "end", "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:09Z"},
            "Đã kết thúc",
            "Ended",
        ),
    ],
)
def test_instant_events_read_as_events(
    modules_page: Page, alert: dict[str, object], vi: str, en: str
) -> None:
    got = run(
        modules_page,
        "detail.js",
        """async (m, a) => {
            const i18n = await import('/js/i18n.js');
            const before = i18n.lang();
            i18n.setLang("vi"); const vi = m.stateText(a);
            i18n.setLang("en"); const en = m.stateText(a);
            i18n.setLang(before);
            return [vi, en];
        }""",
        alert,
    )
    assert got == [vi, en]


def test_history_shows_a_republished_record_once(modules_page: Page) -> None:
    rows = [
        {"action": "ack", "at": "2026-01-01T00:00:05Z", "seq": None, "actor": "op1", "detail": {}},
        {
            "action": "message",
            "at": "2026-01-01T00:00:00Z",
            "seq": 1,
            "actor": None,
            "detail": {"state": "start"},
        },
        {
            "action": "message",
            "at": "2026-01-01T00:00:00Z",
            "seq": 2,
            "actor": None,
            "detail": {"state": "start"},
        },
        {
            "action": "message",
            "at": "2026-01-01T00:00:09Z",
            "seq": 3,
            "actor": None,
            "detail": {"state": "end"},
        },
    ]
    got = run(modules_page, "detail.js", "(m, rows) => m.dedupeHistory(rows).map((r) => r.seq)", rows)
    assert got == [1, None, 3]


@pytest.mark.parametrize(
    ("wire", "shown"),
    [
        ("2026-01-01T00:00:00Z", "01/01 07:00:00"),
        ("2026-01-01T00:00:00+00:00", "01/01 07:00:00"),
        ("2026-01-01T00:00:00", "01/01 07:00:00"),  # no zone on the wire: UTC
        ("2026-06-30T20:15:30+07:00", "30/06 20:15:30"),
        (None, "—"),
    ],
)
def test_times_are_shown_in_hanoi(modules_page: Page, wire: str | None, shown: str) -> None:
    assert run(modules_page, "format.js", "(m, v) => m.fmtDateTime(v)", wire) == shown


def test_site_time_zone_from_the_server_is_used(modules_page: Page) -> None:
    body = """(m, v) => {
        const shown = [];
        m.setSiteTimeZone("Europe/London");
        shown.push(m.fmtDateTime(v));
        m.setSiteTimeZone("Not/AZone");  // unknown: keeps London
        shown.push(m.fmtDateTime(v));
        m.setSiteTimeZone("Asia/Ho_Chi_Minh");
        shown.push(m.fmtDateTime(v));
        return shown;
    }"""
    got = run(modules_page, "format.js", body, "2026-01-01T00:00:00Z")
    assert got == ["01/01 00:00:00", "01/01 00:00:00", "01/01 07:00:00"]


@pytest.mark.parametrize(
    ("prefix", "value", "vi", "en"),
    [
        ("rule", "intrusion", "Xâm nhập vùng cấm", "Intrusion"),
        ("rule", "speed_limit", "speed limit", "speed limit"),  # unknown rule types still read
        ("camstate", "offline", "Mất kết nối", "Offline"),
        ("status", "resolved", "Đã xử lý", "Resolved"),
        ("severity", "critical", "Khẩn cấp", "Critical"),
        ("severity", "warning", "Chú ý", "Warning"),  # not "Cảnh báo": that is the panel's title
        ("kpisource", "operations", "Vận hành", "Operations"),
        ("kpisource", "public_service", "Dịch vụ công", "Public service"),
        ("kpisource", "field_report", "Phản ánh hiện trường", "Field report"),
        ("unit", "min", "phút", "min"),
    ],
)
def test_labels_in_both_languages(modules_page: Page, prefix: str, value: str, vi: str, en: str) -> None:
    got = run(
        modules_page,
        "i18n.js",
        """(m, a) => {
            const before = m.lang();
            m.setLang("vi"); const vi = m.label(a[0], a[1]);
            m.setLang("en"); const en = m.label(a[0], a[1]);
            m.setLang(before);
            return [vi, en];
        }""",
        [prefix, value],
    )
    assert got == [vi, en]


@pytest.mark.parametrize(
    ("lang", "reason", "expected"),
    [
        ("vi", Reason.of(R.RECEIVING), "đang nhận khung hình"),
        ("vi", Reason.of(R.RECONNECTING, n=3), "đang kết nối lại (lần 3)"),
        ("vi", Reason.of(R.NO_FRAME, n=12.54), "không có khung hình trong 12.5 giây"),
        ("vi", Reason.of(R.NO_DATA, n=5.26), "không có dữ liệu trong 5.3 giây (hết thời gian chờ)"),
        ("vi", Reason.of(R.NOT_FOUND), "không tìm thấy tệp"),
        ("vi", Reason.of(R.DISABLED), "đã tắt trong cấu hình"),
        ("en", Reason.of(R.NO_FIRST_FRAME, n=7.0), "no first frame for 7 s"),
        ("en", Reason.of(R.DISABLED), "disabled in the config"),
        ("vi", Reason.of(R.OTHER, detail="RTSP 454 session not found"), "RTSP 454 session not found"),
        ("vi", Reason.of(R.FAILED, detail="RuntimeError: boom"), "lỗi đầu đọc: RuntimeError: boom"),
    ],
)
def test_camera_status_reasons_are_translated(
    modules_page: Page, lang: str, reason: Reason, expected: str
) -> None:
    status = CameraStatus(
        camera_id="c", state=CameraState.OFFLINE, changed_at=datetime.now(UTC), **reason.status_fields()
    ).model_dump(mode="json")
    body = "(m, a) => { const was = m.lang(); m.setLang(a[0]); const out = m.reasonText(a[1]); "
    got = run(modules_page, "i18n.js", body + "m.setLang(was); return out; }", [lang, status])
    assert got == expected


def test_a_code_the_wall_does_not_know_shows_the_english_reason(modules_page: Page) -> None:
    status = {"reason_code": "newcode", "reason_args": {}, "reason": "something new"}
    assert run(modules_page, "i18n.js", "(m, a) => m.reasonText(a)", status) == "something new"


@pytest.mark.parametrize("code", list(R))
def test_every_reason_code_has_a_translation_in_both_languages(code: R) -> None:
    i18n = (Path(__file__).resolve().parents[2] / "dashboard" / "js" / "i18n.js").read_text(encoding="utf-8")
    vi, en = i18n.split("\n  en: {", 1)
    assert f'"reason.{code.value}":' in vi
    assert f'"reason.{code.value}":' in en
