"""Flows over REST and /ws: stored from the bus, filtered by camera, line and time, limited by role."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from ioc.messages import FlowCount
from tests.api.conftest import Api
from tests.factories import make_flow

T0 = 1_767_225_600.0
ALL_TIME = "?from=2020-01-01T00:00:00Z"


def _seed(api: Api) -> list[FlowCount]:
    flows = [
        make_flow(m, camera_id=cam, category=cat, line_id=line, rule_id=f"count-{line}")
        for m in range(3)
        for cam, cat, line in (
            ("street", "traffic", "l1"),
            ("street", "traffic", "l2"),
            ("gate", "security", "l1"),
        )
    ]
    for flow in flows:
        api.bus.publish(flow)
    deadline = time.monotonic() + 5
    while len(api.client.get("/api/flows" + ALL_TIME, headers=api.auth("admin")).json()) < len(flows):
        assert time.monotonic() < deadline, "flows published on the bus were not stored"
        time.sleep(0.02)
    return flows


def _get(api: Api, role: str, params: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/api/flows{params}", headers=api.auth(role))
    assert r.status_code == 200, r.text
    return list(r.json())


def _keys(items: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    out = []
    for item in items:
        started = datetime.fromisoformat(item["started_at"]).timestamp()
        out.append((item["camera_id"], item["line_id"], int((started - T0) // 60)))
    return out


@pytest.mark.parametrize(
    ("role", "params", "expected"),
    [
        pytest.param(
            "traffic",
            ALL_TIME + "&camera=street&line=l1",
            [("street", "l1", 0), ("street", "l1", 1), ("street", "l1", 2)],
            id="traffic-one-line",
        ),
        pytest.param("traffic", ALL_TIME + "&camera=gate", [], id="traffic-never-sees-security"),
        pytest.param("police", ALL_TIME + "&camera=street", [], id="police-never-sees-traffic"),
        pytest.param(
            "operator",
            "?camera=gate&from=2026-01-01T00:01:30Z&to=2026-01-01T07:02:00%2B07:00",
            [("gate", "l1", 1)],
            id="from-to-overlap-with-offsets",
        ),
        pytest.param("admin", "?camera=street", [], id="default-window-is-the-last-day"),
    ],
)
def test_list_flows(api: Api, role: str, params: str, expected: list[tuple[str, str, int]]) -> None:
    _seed(api)
    assert _keys(_get(api, role, params)) == expected


def test_counts_come_back_as_published(api: Api) -> None:
    flow = make_flow(0, counts={("car", "in"): 4, ("motorcycle", "out"): 2}, partial=True)
    api.bus.publish(flow)
    deadline = time.monotonic() + 5
    while not (items := _get(api, "traffic", ALL_TIME)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert FlowCount.model_validate(items[0]) == flow


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ("?from=yesterday", 422, "from"),
        ("?from=2026-01-01T01:00:00Z&to=2026-01-01T00:00:00Z", 422, "is not after from"),
        ("?limit=0", 422, "limit"),
    ],
)
def test_bad_parameters_are_refused_by_name(api: Api, params: str, status: int, needle: str) -> None:
    r = api.client.get(f"/api/flows{params}", headers=api.auth("admin"))
    assert r.status_code == status
    assert needle in r.text


def test_flows_need_a_login(api: Api) -> None:
    assert api.client.get("/api/flows").status_code == 401


def test_ws_forwards_flows_by_category(api: Api) -> None:
    with api.client.websocket_connect(f"/ws?token={api.tokens['traffic']}") as ws:
        ws.receive_json()  # welcome
        api.bus.publish(make_flow(0, camera_id="gate", category="security"))
        api.bus.publish(make_flow(0, camera_id="street"))
        message = ws.receive_json()
        assert (message["type"], message["camera_id"]) == ("flow", "street")
    assert datetime.fromisoformat(message["started_at"]) == datetime.fromtimestamp(T0, tz=UTC)
