"""Alerts over REST: newest first, filters, cursor pagination, role visibility, and the
ack / assign / resolve workflow with its audit trail and live re-publication."""

from __future__ import annotations

import base64

import pytest

from ioc.messages import Alert, AlertState
from tests.api.conftest import Api
from tests.factories import make_alert

MIXED = [
    ("street", "traffic", "line_crossing", "info"),
    ("gate", "security", "intrusion", "critical"),
    ("street", "traffic", "intrusion", "warning"),
    ("gate", "security", "loitering", "warning"),
]


def _seed(api: Api) -> list[Alert]:
    return api.publish(
        *(
            make_alert(n, camera_id=cam, category=cat, rule_type=rule, severity=sev)
            for n, (cam, cat, rule, sev) in enumerate(MIXED, start=1)
        )
    )


def _ids(api: Api, role: str, params: str = "") -> list[str]:
    r = api.client.get(f"/api/alerts{params}", headers=api.auth(role))
    assert r.status_code == 200, r.text
    return [a["id"] for a in r.json()["items"]]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", ["gate-a4", "street-a3", "gate-a2", "street-a1"]),
        ("operator", ["gate-a4", "street-a3", "gate-a2", "street-a1"]),
        ("police", ["gate-a4", "gate-a2"]),
        ("traffic", ["street-a3", "street-a1"]),
    ],
)
def test_list_is_newest_first_and_limited_by_role(api: Api, role: str, expected: list[str]) -> None:
    _seed(api)
    assert _ids(api, role) == expected
    assert _ids(api, role, "?category=security") == [i for i in expected if i.startswith("gate")]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("?camera_id=street", ["street-a3", "street-a1"]),
        ("?rule_type=intrusion", ["street-a3", "gate-a2"]),
        ("?severity=warning", ["gate-a4", "street-a3"]),
        ("?status=new&limit=1", ["gate-a4"]),
        ("?since=2023-11-14T22:13:22Z&until=2023-11-14T22:13:24Z", ["street-a3", "gate-a2"]),
    ],
)
def test_filters(api: Api, params: str, expected: list[str]) -> None:
    _seed(api)
    assert _ids(api, "operator", params) == expected


def _raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        "?severity=bad",
        "?limit=0",
        "?limit=501",
        "?cursor=%%%",
        "?since=yesterday",
        f"?cursor={_raw_cursor('seq:' + '9' * 30)}",  # beyond BIGINT: the driver would overflow
        f"?cursor={_raw_cursor('seq:-1')}",
        f"?cursor={_raw_cursor('page:3')}",
    ],
)
def test_bad_query_is_a_422_naming_the_parameter(api: Api, params: str) -> None:
    r = api.client.get(f"/api/alerts{params}", headers=api.auth("operator"))
    assert r.status_code == 422
    name = params[1:].split("=")[0]
    assert name in r.text


def test_cursor_pagination_visits_every_alert_once(api: Api) -> None:
    api.publish(*(make_alert(n) for n in range(23)))
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        r = api.client.get(f"/api/alerts?limit=5{cursor}", headers=api.auth("operator")).json()
        seen.extend(a["id"] for a in r["items"])
        pages += 1
        if r["next_cursor"] is None:
            break
        cursor = f"&cursor={r['next_cursor']}"
    assert pages == 5
    assert seen == [f"gate-a{n}" for n in reversed(range(23))]


def test_detail_hides_what_the_role_may_not_see(api: Api) -> None:
    _seed(api)
    assert api.client.get("/api/alerts/gate-a2", headers=api.auth("traffic")).status_code == 404
    assert api.client.get("/api/alerts/street-a1", headers=api.auth("police")).status_code == 404
    detail = api.client.get("/api/alerts/gate-a2", headers=api.auth("police")).json()
    assert detail["alert"]["id"] == "gate-a2"
    assert [h["action"] for h in detail["history"]] == ["message"]


def test_ack_assign_resolve_audit_trail_and_republish(api: Api) -> None:
    (alert,) = api.publish(make_alert(1))
    ops = api.auth("operator")
    acked = api.client.post("/api/alerts/gate-a1/ack", headers=ops).json()
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "olga")
    assert acked["seq"] == alert.seq + 1  # type: ignore[operator]
    assigned = api.client.post("/api/alerts/gate-a1/assign", json={"assignee": "pol"}, headers=ops).json()
    assert assigned["assigned_to"] == "pol"
    done = api.client.post(
        "/api/alerts/gate-a1/resolve", json={"note": "gate closed"}, headers=api.auth("admin")
    )
    assert (done.json()["status"], done.json()["resolved_by"]) == ("resolved", "admin")
    api.flush()

    detail = api.client.get("/api/alerts/gate-a1", headers=ops).json()
    assert detail["alert"]["status"] == "resolved"
    trail = [(h["action"], h["actor"], h["detail"]) for h in detail["history"] if h["action"] != "message"]
    assert trail == [
        ("ack", "olga", {}),
        ("assign", "olga", {"assignee": "pol"}),
        ("resolve", "admin", {"note": "gate closed"}),
    ]
    assert all(h["at"] for h in detail["history"])
    # each change went out on the bus as the full current record, in order
    replayed = api.store.messages_after(alert.seq or 0, 10)
    assert [(a.status.value, a.assigned_to) for a in replayed] == [
        ("acknowledged", None),
        ("acknowledged", "pol"),
        ("resolved", "pol"),
    ]


@pytest.mark.parametrize(
    ("role", "path", "body", "expected"),
    [
        ("police", "/api/alerts/gate-a1/ack", None, 403),
        ("traffic", "/api/alerts/gate-a1/resolve", None, 403),
        ("operator", "/api/alerts/nope/ack", None, 404),
        ("operator", "/api/alerts/gate-a1/assign", {"assignee": "ghost"}, 422),
        ("operator", "/api/alerts/gate-a1/assign", {}, 422),
    ],
)
def test_workflow_refusals(
    api: Api, role: str, path: str, body: dict[str, str] | None, expected: int
) -> None:
    api.publish(make_alert(1))
    assert api.client.post(path, json=body, headers=api.auth(role)).status_code == expected


def test_double_ack_is_a_conflict(api: Api) -> None:
    api.publish(make_alert(1))
    assert api.client.post("/api/alerts/gate-a1/ack", headers=api.auth("operator")).status_code == 200
    r = api.client.post("/api/alerts/gate-a1/ack", headers=api.auth("admin"))
    assert r.status_code == 409
    assert "already acknowledged by 'olga'" in r.json()["detail"]


def test_pipeline_update_after_ack_keeps_the_ack(api: Api) -> None:
    (start,) = api.publish(make_alert(1))
    api.client.post("/api/alerts/gate-a1/ack", headers=api.auth("operator"))
    later = start.model_copy(
        update={"state": AlertState.UPDATE, "updated_at": start.updated_at.replace(second=59), "seq": None}
    )
    api.publish(later)
    current = api.client.get("/api/alerts/gate-a1", headers=api.auth("operator")).json()["alert"]
    assert (current["state"], current["status"], current["acknowledged_by"]) == (
        "update",
        "acknowledged",
        "olga",
    )
