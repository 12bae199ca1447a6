"""/ws over the real app: welcome, resume with no gap and no duplicate, role and subscription
filters, heartbeats, bad requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from ioc.api.context import ApiOptions
from tests.api.conftest import Api, build_api
from tests.factories import make_alert, make_camera_status, make_kpi


def _connect(api: Api, role: str, query: str = "") -> Any:
    return api.client.websocket_connect(f"/ws?token={api.tokens[role]}{query}")


def _until(ws: WebSocketTestSession, predicate: Any, limit: int = 500) -> list[dict[str, Any]]:
    """Messages up to and including the first that matches ``predicate``."""
    out = []
    for _ in range(limit):
        msg = ws.receive_json()
        out.append(msg)
        if predicate(msg):
            return out
    raise AssertionError(f"no matching message in {limit}")


def _is_alert(alert_id: str) -> Any:
    return lambda m: m.get("type") == "alert" and m["id"] == alert_id


def test_welcome_then_live_alert(api: Api) -> None:
    with _connect(api, "operator") as ws:
        welcome = ws.receive_json()
        assert welcome == {
            "type": "welcome",
            "schema_version": 1,
            "username": "olga",
            "role": "operator",
            "last_seq": 0,
        }
        (published,) = api.publish(make_alert(1))
        msg = ws.receive_json()
        assert msg["type"] == "alert" and msg["seq"] == published.seq and msg["message"]["vi"] == "Cảnh báo 1"


def test_resume_receives_exactly_the_missed_alerts_in_order(api: Api) -> None:
    with _connect(api, "operator") as ws:
        ws.receive_json()
        api.publish(make_alert(0))
        last_seq = ws.receive_json()["seq"]
    # disconnected: 20 alerts happen meanwhile
    missed = api.publish(*(make_alert(n) for n in range(1, 21)))
    with _connect(api, "operator", f"&last_seq={last_seq}") as ws:
        assert ws.receive_json()["last_seq"] == last_seq
        got = [ws.receive_json() for _ in range(20)]
        assert [m["seq"] for m in got] == [a.seq for a in missed] == list(range(last_seq + 1, last_seq + 21))
        assert [m["id"] for m in got] == [f"gate-a{n}" for n in range(1, 21)]
        api.publish(make_alert(99))
        live = ws.receive_json()
        assert (live["id"], live["seq"]) == ("gate-a99", last_seq + 21)  # no duplicate of the replay


@pytest.mark.parametrize("role", ["traffic", "police"])
def test_role_never_receives_another_category(api: Api, role: str) -> None:
    allowed = {"traffic": "traffic", "police": "security"}[role]
    mixed = [make_alert(n, category=("traffic" if n % 2 else "security")) for n in range(10)]
    api.publish(*mixed[:5])  # before connecting: delivered by replay
    with _connect(api, role, "&last_seq=0") as ws:
        ws.receive_json()
        api.publish(*mixed[5:])
        api.publish(make_alert(100, category=allowed))
        received = _until(ws, _is_alert("gate-a100"))
    assert {m["category"] for m in received} == {allowed}
    assert len(received) == 6


def test_subscription_filters_and_update(api: Api) -> None:
    with _connect(api, "operator", "&cameras=street") as ws:
        ws.receive_json()
        api.publish(make_alert(1, camera_id="gate"), make_alert(2, camera_id="street", category="traffic"))
        assert ws.receive_json()["id"] == "street-a2"
        ws.send_json({"type": "subscribe", "categories": ["security"]})
        api.bus.publish(make_camera_status("street"))
        api.bus.publish(make_camera_status("gate"))
        api.publish(make_alert(3, camera_id="street", category="traffic"), make_alert(4))
        received = _until(ws, _is_alert("gate-a4"))
    assert [(m["type"], m["camera_id"]) for m in received] == [("camera_status", "gate"), ("alert", "gate")]


def test_camera_status_and_kpi_follow_their_category(api: Api) -> None:
    with _connect(api, "traffic") as ws:
        ws.receive_json()
        for message in (
            make_camera_status("gate"),
            make_camera_status("street"),
            make_kpi(),  # public_service: not for traffic
            make_kpi("operations.traffic", category="traffic"),
        ):
            api.bus.publish(message)
        assert ws.receive_json()["camera_id"] == "street"
        assert ws.receive_json()["source"] == "operations.traffic"


@pytest.fixture
def fast_heartbeat(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(tmp_path, ApiOptions(heartbeat_seconds=0.05))


def test_heartbeat_carries_a_safe_resume_point(fast_heartbeat: Api) -> None:
    api = fast_heartbeat
    with _connect(api, "traffic") as ws:
        ws.receive_json()
        api.publish(make_alert(1))  # security: filtered out for traffic, but passed
        beats = _until(ws, lambda m: m["type"] == "heartbeat" and m["last_seq"] == 1)
    assert all(m["type"] == "heartbeat" for m in beats)
    assert beats[-1]["at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("&last_seq=abc", "last_seq: expected an integer"),
        ("&last_seq=-3", "last_seq: expected ≥ 0"),
        ("&categories=traffic,weather", "categories:"),
    ],
)
def test_bad_parameters_close_with_4400(api: Api, query: str, reason: str) -> None:
    with _connect(api, "operator", query) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4400
    assert reason in exc.value.reason


def test_bad_client_message_closes_with_4400(api: Api) -> None:
    with _connect(api, "operator") as ws:
        ws.receive_json()
        ws.send_text("hello")
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4400


def test_cookie_authenticates_the_websocket(api: Api) -> None:
    api.client.cookies.set("ioc_token", api.tokens["police"])
    with api.client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["role"] == "police"


def test_resume_point_ahead_of_the_server_starts_over_from_its_newest(api: Api) -> None:
    api.publish(make_alert(1), make_alert(2))
    with _connect(api, "operator", "&last_seq=500") as ws:
        assert ws.receive_json()["last_seq"] == 2
        api.publish(make_alert(3))
        assert ws.receive_json()["seq"] == 3
