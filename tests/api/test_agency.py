"""The ``agency`` role over the real app (SQLite, in-memory bus): an agency's staff see only their
agency's public_service and field_report alerts (REST list, pages, detail, ``/ws`` resume and
live), KPI tables computed over their agency's records and their agency's own KPI snapshots; never
a camera alert, camera, frame, flow or site-wide KPI snapshot. Creating such users (API, CLI)
and ending their sessions when the agency changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from ioc.api.auth import issue_token
from ioc.api.context import ApiOptions
from ioc.config.kpi_loader import parse_kpi_config
from ioc.kpi.service import KpiRefresher, KpiService, parse_period
from ioc.messages import Alert, Category, KpiSnapshot
from tests.api.conftest import Api, build_api
from tests.api.test_cli import ioc
from tests.api.test_kpi_api import KPI_YAML, PORTAL, dossier
from tests.factories import make_alert, make_camera_status

AGENCIES = {"tuphap": "Sở Tư pháp", "xaydung": "Sở Xây dựng"}
APP = {"Authorization": "Bearer app-token"}
SEPT = "period=2026-09-01..2026-09-30"


@pytest.fixture
def aapi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app with a KPI service and one agency user per agency (tokens keyed by username)."""
    monkeypatch.setenv("TEST_PORTAL_TOKEN", "portal-token")
    monkeypatch.setenv("TEST_APP_TOKEN", "app-token")
    for api in build_api(tmp_path):
        config = parse_kpi_config(KPI_YAML, "kpi.yaml")
        api.app.state.kpi = KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), api.store)
        for name, agency in AGENCIES.items():
            user = api.store.add_user(name, "agency", "unused-hash", datetime.now(UTC), agency=agency)
            api.tokens[name] = issue_token(
                api.app.state.ctx.secret, api.app.state.ctx.sessions, user, timedelta(hours=1)
            )
        yield api


def _mixed_alerts() -> list[Alert]:
    """Every agency × category, camera alerts, and an agency-less public_service alert."""
    out = []
    for n in range(12):
        agency = list(AGENCIES.values())[n % 2]
        category = "public_service" if n % 4 < 2 else "field_report"
        out.append(make_alert(n, camera_id="kpi", category=category, rule_type="overdue", agency=agency))
    out.append(make_alert(50, camera_id="gate", category="security"))
    out.append(make_alert(51, camera_id="road", category="traffic"))
    out.append(make_alert(52, camera_id="kpi", category="public_service", rule_type="overdue"))
    return out


def _own(alerts: list[Alert], name: str) -> list[str]:
    return [a.id for a in alerts if a.agency == AGENCIES[name]]


@pytest.mark.parametrize("name", sorted(AGENCIES))
def test_rest_lists_pages_and_details_only_the_users_agency(aapi: Api, name: str) -> None:
    alerts = aapi.publish(*_mixed_alerts())
    own = _own(alerts, name)
    listed = aapi.client.get("/api/alerts?limit=500", headers=aapi.auth(name)).json()["items"]
    assert sorted(a["id"] for a in listed) == sorted(own)
    paged, cursor = [], ""
    for _ in range(20):  # pages of 2 over rows where other agencies' and cameras' alerts interleave
        page = aapi.client.get(f"/api/alerts?limit=2{cursor}", headers=aapi.auth(name)).json()
        paged += [a["id"] for a in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(paged) == sorted(own) and len(paged) == len(set(paged))
    for alert in alerts:
        status = aapi.client.get(f"/api/alerts/{alert.id}", headers=aapi.auth(name)).status_code
        assert status == (200 if alert.id in own else 404), alert.id
    by_category = aapi.client.get("/api/alerts?category=security", headers=aapi.auth(name)).json()
    assert by_category["items"] == []
    ack = aapi.client.post(f"/api/alerts/{own[0]}/ack", headers=aapi.auth(name))
    assert ack.status_code == 403


def _collect_until(ws: Any, alert_id: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(500):
        msg = ws.receive_json()
        out.append(msg)
        if msg.get("type") == "alert" and msg["id"] == alert_id:
            return out
    raise AssertionError(f"{alert_id} never arrived")


@pytest.mark.parametrize("name", sorted(AGENCIES))
def test_ws_resume_and_live_carry_only_the_users_agency(aapi: Api, name: str) -> None:
    mixed = _mixed_alerts()
    aapi.publish(*mixed[:7])  # before connecting: replayed on resume
    with aapi.client.websocket_connect(f"/ws?token={aapi.tokens[name]}&last_seq=0") as ws:
        me = aapi.client.get("/api/me", headers=aapi.auth(name)).json()
        assert me == {"username": name, "role": "agency", "agency": AGENCIES[name]}
        welcome = ws.receive_json()
        assert (welcome["username"], welcome["role"]) == (name, "agency")
        aapi.publish(*mixed[7:])
        aapi.bus.publish(make_camera_status("kpi"))
        aapi.bus.publish(
            KpiSnapshot(
                source="public_service", at=datetime.now(UTC), values=(), category=Category.PUBLIC_SERVICE
            )
        )
        for agency in AGENCIES.values():  # each agency's own tiles
            aapi.bus.publish(
                KpiSnapshot(
                    source="public_service",
                    at=datetime.now(UTC),
                    values=(),
                    category=Category.PUBLIC_SERVICE,
                    agency=agency,
                )
            )
        sentinel = make_alert(99, camera_id="kpi", category="field_report", agency=AGENCIES[name])
        aapi.publish(sentinel)
        got = _collect_until(ws, sentinel.id)
    alerts = [m for m in got if m["type"] == "alert"]
    assert {m["type"] for m in got} <= {"alert", "kpi", "heartbeat"}
    assert [m["agency"] for m in got if m["type"] == "kpi"] == [AGENCIES[name]]
    assert sorted(m["id"] for m in alerts) == sorted([*_own(mixed, name), sentinel.id])
    assert {m["agency"] for m in alerts} == {AGENCIES[name]}


def _report(n: int, agency: str) -> dict[str, Any]:
    return {
        "id": f"PA-{n}",
        "updated_at": "2026-09-02T08:00:00+07:00",
        "service_code": "rac-thai",
        "lat": 10.8,
        "long": 106.7,
        "requested_at": "2026-09-02T08:00:00+07:00",
        "agency": agency,
    }


def _push_kpi_records(api: Api) -> None:
    open_late = {"due_at": "2026-09-03T08:00:00+07:00", "status": 4}
    dossiers = [dossier(n, agency=list(AGENCIES.values())[n % 2], **open_late) for n in range(6)]
    reports = [_report(n, list(AGENCIES.values())[n % 2]) for n in range(6)]
    assert api.client.post("/api/kpi/push/portal", json=dossiers, headers=PORTAL).json()["accepted"] == 6
    assert api.client.post("/api/kpi/push/app", json=reports, headers=APP).json()["accepted"] == 6


@pytest.mark.parametrize(
    ("path", "rows"),
    [
        (f"/api/kpi/public-service?{SEPT}&by=agency", lambda b: list(b["groups"])),
        (f"/api/kpi/field-reports?{SEPT}&by=agency", lambda b: list(b["groups"])),
        ("/api/kpi/public-service/overdue", lambda b: [r["agency"] for r in b]),
        ("/api/kpi/field-reports/open", lambda b: [r["agency_responsible"] for r in b]),
    ],
)
def test_kpi_tables_hold_only_the_users_agency(aapi: Api, path: str, rows: Any) -> None:
    _push_kpi_records(aapi)
    assert set(rows(aapi.client.get(path, headers=aapi.auth("operator")).json())) == set(AGENCIES.values())
    for name, agency in AGENCIES.items():
        r = aapi.client.get(path, headers=aapi.auth(name))
        assert r.status_code == 200, r.text
        assert rows(r.json()) and set(rows(r.json())) == {agency}


def test_kpi_totals_count_only_the_users_agency(aapi: Api) -> None:
    _push_kpi_records(aapi)
    for by in ("field", "procedure"):
        body = aapi.client.get(f"/api/kpi/public-service?{SEPT}&by={by}", headers=aapi.auth("tuphap")).json()
        assert body["total"]["received"] == 3
    everyone = aapi.client.get(f"/api/kpi/public-service?{SEPT}", headers=aapi.auth("operator")).json()
    assert everyone["total"]["received"] == 6


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/kpi/hotline", 403),
        ("/api/cameras", 200),
        ("/api/flows", 200),
        ("/api/cameras/gate", 404),
        ("/snapshots/gate/2026-09-01/a.jpg", 404),
    ],
)
def test_no_cameras_frames_flows_or_hotline(aapi: Api, path: str, status: int) -> None:
    r = aapi.client.get(path, headers=aapi.auth("tuphap"))
    assert r.status_code == status
    if status == 200:
        assert r.json() == []
    assert aapi.client.get(path, headers=aapi.auth("operator")).status_code != 403


def test_kpi_snapshots_go_to_their_agency_only(aapi: Api) -> None:
    now = datetime.now(UTC)
    for category in (Category.PUBLIC_SERVICE, Category.FIELD_REPORT, None):
        aapi.bus.publish(KpiSnapshot(source=f"s-{category}", at=now, values=(), category=category))
    for agency in AGENCIES.values():
        aapi.bus.publish(
            KpiSnapshot(
                source="public_service", at=now, values=(), category=Category.PUBLIC_SERVICE, agency=agency
            )
        )
    for _ in range(200):
        if len(aapi.client.get("/api/kpi", headers=aapi.auth("tuphap")).json()) == 1:
            break
    admin = aapi.client.get("/api/kpi", headers=aapi.auth("admin")).json()
    assert sorted(k["source"] for k in admin) == ["s-None", "s-field_report", "s-public_service"]
    assert {k["agency"] for k in admin} == {None}  # the site-wide ones only: no agency's tiles on the wall
    for name, agency in AGENCIES.items():
        own = aapi.client.get("/api/kpi", headers=aapi.auth(name)).json()
        assert [(k["source"], k["agency"]) for k in own] == [("public_service", agency)]


def test_the_refresher_publishes_each_agency_its_own_counts(aapi: Api) -> None:
    _push_kpi_records(aapi)
    service: KpiService = aapi.app.state.kpi
    published: list[object] = []
    now = datetime(2026, 9, 15, 10, tzinfo=UTC)
    KpiRefresher(service, published.append, clock=lambda: now).run_once()
    snaps = [m for m in published if isinstance(m, KpiSnapshot)]
    assert {(k.source, k.agency) for k in snaps if k.agency} == {
        (source, agency) for source in ("public_service", "field_report") for agency in AGENCIES.values()
    }
    month = parse_period("month", now, service.calendar)
    for agency in AGENCIES.values():
        own = {k.source: {v.key: v.value for v in k.values} for k in snaps if k.agency == agency}
        want = service.dossier_kpis(month, now, agency=agency)["total"]
        assert own["public_service"]["open_overdue"] == want["open_overdue"] == 3
        assert (
            own["field_report"]["backlog"]
            == service.report_kpis(month, now, agency=agency)["total"]["backlog"]
        )
    site = {k.source: {v.key: v.value for v in k.values} for k in snaps if k.agency is None}
    assert site["public_service"]["open_overdue"] == 6


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"username": "a1", "role": "agency", "agency": "Sở Tư pháp"}, 201, ""),
        ({"username": "a2", "role": "agency"}, 422, "agency: required"),
        ({"username": "a3", "role": "agency", "agency": "  "}, 422, "agency: required"),
        ({"username": "a4", "role": "agency", "agency": "x" * 201}, 422, "200 characters"),
        ({"username": "a5", "role": "operator", "agency": "Sở Tư pháp"}, 422, "only the 'agency' role"),
    ],
)
def test_users_api_takes_and_returns_the_agency(
    aapi: Api, body: dict[str, str], status: int, needle: str
) -> None:
    r = aapi.client.post("/api/users", json=body, headers=aapi.auth("admin"))
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["agency"] == "Sở Tư pháp"
        users = {u["username"]: u for u in aapi.client.get("/api/users", headers=aapi.auth("admin")).json()}
        assert (users["a1"]["role"], users["a1"]["agency"], users["admin"]["agency"]) == (
            "agency",
            "Sở Tư pháp",
            None,
        )
    else:
        assert needle in r.json()["detail"]
        assert (
            aapi.client.get("/api/users", headers=aapi.auth("admin")).json()[0]["username"]
            != body["username"]
        )


def test_changing_the_agency_ends_the_users_sessions(tmp_path: Path) -> None:
    """REST refuses the old token at once; an open websocket closes at the next session check."""
    for api in build_api(tmp_path, ApiOptions(heartbeat_seconds=30, session_recheck_seconds=0.2)):
        user = api.store.add_user("tuphap", "agency", "unused-hash", datetime.now(UTC), agency="Sở Tư pháp")
        token = issue_token(api.app.state.ctx.secret, api.app.state.ctx.sessions, user, timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        assert api.client.get("/api/alerts", headers=headers).status_code == 200
        with api.client.websocket_connect(f"/ws?token={token}") as ws:
            assert ws.receive_json()["type"] == "welcome"
            api.store._q("UPDATE users SET agency = ? WHERE username = ?", ("Sở Xây dựng", "tuphap"))
            assert api.client.get("/api/alerts", headers=headers).status_code == 401
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()  # heartbeats come every 30 s: only the close can end this
        assert exc.value.code == 4401


def test_cli_adds_and_lists_an_agency_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    add = ("users", "add", "tuphap", "--role", "agency", "--password", "tuphap-pass", "--data-dir", d)
    code, out, _ = ioc(capsys, *add, "--agency", "Sở Tư pháp")
    assert code == 0 and "added tuphap (agency, Sở Tư pháp)" in out
    code, out, _ = ioc(capsys, "users", "list", "--data-dir", d)
    assert code == 0 and re.search(r"^tuphap\tagency\t\d{4}-\S+\tSở Tư pháp$", out, re.M)
    code, _, err = ioc(
        capsys, "users", "add", "other", "--role", "agency", "--password", "pass-pass", "--data-dir", d
    )
    assert code == 1 and "--agency: required for the 'agency' role" in err
    code, _, err = ioc(
        capsys, "users", "add", "op", "--agency", "Sở Tư pháp", "--password", "pass-pass", "--data-dir", d
    )
    assert code == 1 and "--agency: only the 'agency' role" in err
    code, out, _ = ioc(capsys, "users", "list", "--data-dir", d)
    assert [line.split("\t")[0] for line in out.splitlines()] == ["tuphap"]
