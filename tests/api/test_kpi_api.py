"""KPI over HTTP: push batches (per-record refusals, idempotency, token), KPI tables by role,
Open311 GeoReport v2 round trip, and an overdue dossier's alert raised, handled and ended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from ioc.config.kpi_loader import parse_kpi_config
from ioc.config.kpi_models import RecordKind
from ioc.kpi.service import KpiRefresher, KpiService
from ioc.messages import Category, KpiSnapshot
from tests.api.conftest import Api, build_api
from tests.kpi.factories import at

KPI_YAML = """
sources:
  - {id: portal, type: push, kind: dossier, token_env: TEST_PORTAL_TOKEN}
  - {id: app, type: push, kind: field_report, token_env: TEST_APP_TOKEN}
  - {id: feed, type: pull, kind: hotline, url: "http://127.0.0.1:9/x"}
open311_services:
  - {service_code: rac-thai, service_name: "Rác thải", expected_hours: 24}
  - {service_code: o-ga, service_name: "Ổ gà"}
"""
PORTAL = {"Authorization": "Bearer portal-token"}


@pytest.fixture
def kapi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("TEST_PORTAL_TOKEN", "portal-token")
    monkeypatch.setenv("TEST_APP_TOKEN", "app-token")
    for api in build_api(tmp_path):
        config = parse_kpi_config(KPI_YAML, "kpi.yaml")
        api.app.state.kpi = KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), api.store)
        yield api


def dossier(n: int, **over: Any) -> dict[str, Any]:
    return {
        "id": f"HS-{n}",
        "updated_at": "2026-09-02T08:00:00+07:00",
        "procedure": "P1",
        "field": "F1",
        "agency": "A" if n % 2 else "B",
        "channel": "online",
        "received_at": "2026-09-02T08:00:00+07:00",
        "due_at": "2026-09-08T11:30:00+07:00",
        "status": 4,
        **over,
    }


def refused_count() -> float:
    return (
        REGISTRY.get_sample_value("ioc_kpi_records_total", {"source": "portal", "outcome": "refused"}) or 0.0
    )


def test_mixed_batch_keeps_the_valid_and_explains_the_rest(kapi: Api) -> None:
    before = refused_count()
    batch = [dossier(1), {"id": "HS-2", "status": 4}, dossier(3, channel="fax"), "nope", dossier(5)]
    r = kapi.client.post("/api/kpi/push/portal", json=batch, headers=PORTAL)
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    refused = {x["index"]: (x["id"], x["reasons"]) for x in body["refused"]}
    assert sorted(refused) == [1, 2, 3]
    assert refused[1][0] == "HS-2" and "procedure: Field required" in refused[1][1]
    assert refused[2] == ("HS-3", ["channel: Input should be 'in_person', 'online' or 'postal'"])
    assert refused[3] == (None, ["expected a JSON object, got str"])
    assert refused_count() == before + 3
    assert sorted(s.record.id for s in kapi.store.kpi_records(RecordKind.DOSSIER)) == ["HS-1", "HS-5"]


def test_sending_again_updates_never_duplicates(kapi: Api) -> None:
    kapi.client.post("/api/kpi/push/portal", json={"records": [dossier(1)]}, headers=PORTAL)
    done = dossier(
        1, status=9, finished_at="2026-09-08T13:31:00+07:00", updated_at="2026-09-08T13:31:00+07:00"
    )
    for _ in range(2):
        assert kapi.client.post("/api/kpi/push/portal", json=[done], headers=PORTAL).json()["accepted"] == 1
    (row,) = kapi.store.kpi_records(RecordKind.DOSSIER)
    assert row.record.status == 9
    sep = kapi.client.get(
        "/api/kpi/public-service?period=2026-09-01..2026-09-30", headers=kapi.auth("operator")
    )
    assert (sep.json()["total"]["received"], sep.json()["total"]["late"]) == (1, 1)


@pytest.mark.parametrize(
    ("source", "headers", "body", "status"),
    [
        ("portal", {}, [], 401),
        ("portal", {"Authorization": "Bearer wrong"}, [], 401),
        ("portal", {"Authorization": "Basic portal-token"}, [], 401),
        ("app", PORTAL, [], 401),  # another source's token
        ("nosuch", PORTAL, [], 404),
        ("feed", PORTAL, [], 404),  # a pull source takes no pushes
        ("portal", PORTAL, {"items": []}, 422),
        ("portal", PORTAL, [{}] * 5001, 413),
    ],
)
def test_push_refusals(kapi: Api, source: str, headers: dict[str, str], body: Any, status: int) -> None:
    assert kapi.client.post(f"/api/kpi/push/{source}", json=body, headers=headers).status_code == status


def test_kpi_tables_by_period_and_group_and_role(kapi: Api) -> None:
    finished = {"status": 9, "finished_at": "2026-09-08T13:31:00+07:00"}  # one working minute late
    batch = [dossier(1, **finished), dossier(2, **finished | {"finished_at": "2026-09-08T12:45:00+07:00"})]
    kapi.client.post("/api/kpi/push/portal", json=batch, headers=PORTAL)
    r = kapi.client.get(
        "/api/kpi/public-service?period=2026-09-01..2026-09-30&by=agency", headers=kapi.auth("operator")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["received"] == 2 and body["total"]["on_time_rate"] == 50.0
    assert {k: v["on_time_rate"] for k, v in body["groups"].items()} == {"A": 0.0, "B": 100.0}
    assert kapi.client.get("/api/kpi/public-service", headers=kapi.auth("traffic")).status_code == 403
    bad = kapi.client.get("/api/kpi/public-service?period=last-week", headers=kapi.auth("operator"))
    assert bad.status_code == 422 and "expected today, month, year" in bad.json()["detail"]


def test_kpi_snapshots_reach_only_the_roles_that_see_their_category(kapi: Api) -> None:
    now = datetime.now(UTC)
    for source, category in (
        ("public_service", Category.PUBLIC_SERVICE),
        ("operations.traffic", Category.TRAFFIC),
        ("operations", None),
    ):
        kapi.bus.publish(KpiSnapshot(source=source, at=now, values=(), category=category))

    def seen(role: str) -> list[str]:
        for _ in range(200):
            got = [k["source"] for k in kapi.client.get("/api/kpi", headers=kapi.auth(role)).json()]
            if role != "admin" or len(got) == 3:
                return got
        return got

    assert seen("admin") == ["operations", "operations.traffic", "public_service"]
    assert seen("traffic") == ["operations.traffic"]
    assert seen("police") == []


def test_open311_round_trip(kapi: Api) -> None:
    form = {
        "api_key": "app-token",
        "service_code": "rac-thai",
        "lat": "10.80",
        "long": "106.70",
        "description": "Rác tồn đọng",
        "first_name": "Lan",
        "email": "lan@example.vn",
        "phone": "0900000000",
    }
    r = kapi.client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 200, r.text
    (created,) = r.json()
    rid = created["service_request_id"]
    (one,) = kapi.client.get(f"/open311/v2/requests/{rid}.json").json()
    assert (one["service_code"], one["status"], one["service_name"], one["lat"]) == (
        "rac-thai",
        "open",
        "Rác thải",
        10.8,
    )
    assert one["expected_datetime"] is not None
    text = str(one)
    assert "Lan" not in text and "lan@example.vn" not in text and "0900000000" not in text
    assert [
        x["service_request_id"]
        for x in kapi.client.get("/open311/v2/requests.json?service_code=rac-thai").json()
    ] == [rid]
    assert kapi.client.get("/open311/v2/requests.json?service_code=o-ga").json() == []
    assert kapi.client.get("/open311/v2/requests.json?status=closed").json() == []
    assert kapi.client.get("/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z").json() == []
    services = kapi.client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == ["rac-thai", "o-ga"]


@pytest.mark.parametrize(
    ("form", "status", "needle"),
    [
        ({"service_code": "rac-thai", "lat": "10", "long": "106"}, 403, "api_key"),
        ({"api_key": "portal-token", "service_code": "rac-thai", "lat": "10", "long": "106"}, 403, "api_key"),
        ({"api_key": "app-token", "service_code": "xyz", "lat": "10", "long": "106"}, 400, "service_code"),
        ({"api_key": "app-token", "service_code": "o-ga"}, 400, "lat/long or address"),
    ],
)
def test_open311_refusals(kapi: Api, form: dict[str, str], status: int, needle: str) -> None:
    r = kapi.client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == status
    assert needle in r.json()[0]["description"]
    assert kapi.client.get("/open311/v2/requests/nope.json").status_code == 404


def test_overdue_dossier_alert_is_raised_routed_handled_and_ended(kapi: Api) -> None:
    kapi.client.post(
        "/api/kpi/push/portal",
        json=[dossier(1), dossier(2, due_at="2026-12-30T17:00:00+07:00")],
        headers=PORTAL,
    )
    service: KpiService = kapi.app.state.kpi
    refresher = KpiRefresher(service, kapi.bus.publish, clock=lambda: at(9, 15, 10))
    refresher.run_once()
    kapi.flush()
    alert = kapi.client.get("/api/alerts/kpi-dossier-portal-HS-1", headers=kapi.auth("operator")).json()[
        "alert"
    ]
    assert (alert["category"], alert["agency"], alert["rule_type"], alert["state"]) == (
        "public_service",
        "A",
        "dossier_overdue",
        "start",
    )
    assert (
        kapi.client.get("/api/alerts/kpi-dossier-portal-HS-1", headers=kapi.auth("police")).status_code == 404
    )
    assert (
        kapi.client.get("/api/alerts/kpi-dossier-portal-HS-2", headers=kapi.auth("operator")).status_code
        == 404
    )
    assert (
        kapi.client.post("/api/alerts/kpi-dossier-portal-HS-1/ack", headers=kapi.auth("operator")).status_code
        == 200
    )
    refresher.run_once()  # still overdue: not started again
    kapi.flush()
    done = dossier(
        1, status=9, finished_at="2026-09-15T14:00:00+07:00", updated_at="2026-09-15T14:00:00+07:00"
    )
    kapi.client.post("/api/kpi/push/portal", json=[done], headers=PORTAL)
    refresher.run_once()
    kapi.flush()
    detail = kapi.client.get("/api/alerts/kpi-dossier-portal-HS-1", headers=kapi.auth("operator")).json()
    assert detail["alert"]["state"] == "end" and detail["alert"]["status"] == "acknowledged"
    assert [h["detail"].get("state") for h in detail["history"] if h["action"] == "message"] == [
        "start",
        "end",
    ]
