"""Cameras (config + live status), frames, snapshots, KPIs, health, metrics and the dashboard."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ioc.api.routers.snapshots import resolve_snapshot
from ioc.messages import CameraStatus
from tests.api.conftest import Api, build_api
from tests.factories import make_alert, make_camera_status, make_ioc_config, make_kpi


def _eventually(fetch: Any, predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("role", "cameras"),
    [
        ("admin", ["street", "gate"]),
        ("operator", ["street", "gate"]),
        ("police", ["gate"]),
        ("traffic", ["street"]),
    ],
)
def test_cameras_are_limited_by_role(api: Api, role: str, cameras: list[str]) -> None:
    body = api.client.get("/api/cameras", headers=api.auth(role)).json()
    assert [c["id"] for c in body] == cameras
    hidden = {"street", "gate"} - set(cameras)
    for cam in hidden:
        assert api.client.get(f"/api/cameras/{cam}", headers=api.auth(role)).status_code == 404


@pytest.fixture
def api_rtsp(tmp_path: Path) -> Iterator[Api]:
    config = make_ioc_config(
        cameras=[
            {"id": "gate", "source": "rtsp://viewer:s3cr%40t@10.0.0.5:554/live", "category": "security"},
            {"id": "street", "source": "rtsp://10.0.0.6/live", "category": "traffic"},
        ]
    )
    yield from build_api(tmp_path, config=config)


@pytest.mark.parametrize("role", ["admin", "operator", "police"])
def test_camera_source_passwords_are_never_shown(api_rtsp: Api, role: str) -> None:
    listed = api_rtsp.client.get("/api/cameras", headers=api_rtsp.auth(role)).json()
    one = api_rtsp.client.get("/api/cameras/gate", headers=api_rtsp.auth(role)).json()
    sources = {c["id"]: c["source"] for c in listed}
    assert sources["gate"] == one["source"] == "rtsp://viewer:***@10.0.0.5:554/live"
    assert "s3cr" not in str(listed) + str(one)
    if "street" in sources:
        assert sources["street"] == "rtsp://10.0.0.6/live"  # nothing to hide: unchanged


def test_admin_reads_the_full_source_from_the_config(api_rtsp: Api) -> None:
    body = api_rtsp.client.get("/api/config", headers=api_rtsp.auth("admin")).json()
    assert "rtsp://viewer:s3cr%40t@10.0.0.5:554/live" in str(body)


def test_camera_status_comes_from_the_bus(api: Api) -> None:
    api.bus.publish(make_camera_status("gate", "online", fps=4.8, last_frame_age_s=0.2, reconnects=3))

    def fetch() -> dict[str, Any]:
        return dict(api.client.get("/api/cameras/gate", headers=api.auth("operator")).json())

    cam = _eventually(fetch, lambda c: c["status"] is not None)
    assert cam["category"] == "security"
    status = cam["status"]
    assert (status["state"], status["fps"], status["last_frame_age_s"], status["reconnects"]) == (
        "online",
        4.8,
        0.2,
        3,
    )


class Engine:
    """The engine's API-facing surface (ioc.api.context.EngineView): one camera with a frame."""

    def __init__(self) -> None:
        ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
        assert ok
        self.jpeg = jpeg.tobytes()

    def camera_statuses(self) -> Sequence[CameraStatus]:
        return [make_camera_status("street", "stalled", reason="no frames for 5 s")]

    def latest_frame_jpeg(self, camera_id: str) -> bytes | None:
        return self.jpeg if camera_id == "street" else None


@pytest.fixture
def with_engine(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(tmp_path, engine=Engine())


def test_frame_and_status_from_the_engine(with_engine: Api) -> None:
    api = with_engine
    r = api.client.get("/api/cameras/street/frame.jpg", headers=api.auth("traffic"))
    assert (r.status_code, r.headers["content-type"]) == (200, "image/jpeg")
    assert cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    assert api.client.get("/api/cameras/gate/frame.jpg", headers=api.auth("operator")).status_code == 404
    assert api.client.get("/api/cameras/street/frame.jpg", headers=api.auth("police")).status_code == 404
    street = api.client.get("/api/cameras/street", headers=api.auth("operator")).json()
    assert (street["status"]["state"], street["status"]["reason"]) == ("stalled", "no frames for 5 s")


def _write_snapshot(api: Api, camera: str) -> str:
    rel = f"{camera}/2026-01-01/{camera}-a1.jpg"
    path = api.settings.snapshots_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8fake-jpeg\xff\xd9")
    return f"/snapshots/{rel}"


def test_snapshots_need_auth_and_follow_the_camera_category(api: Api) -> None:
    gate, street = _write_snapshot(api, "gate"), _write_snapshot(api, "street")
    api.client.cookies.set("ioc_token", api.tokens["police"])  # as an <img> tag would
    r = api.client.get(gate)
    assert (r.status_code, r.content) == (200, b"\xff\xd8fake-jpeg\xff\xd9")
    assert api.client.get(street).status_code == 404
    api.client.cookies.clear()
    assert api.client.get(gate).status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/snapshots/gate/../../ioc.db", "/snapshots/gate/%2e%2e/%2e%2e/jwt-secret", "/snapshots/gate/x.png"],
)
def test_snapshot_paths_cannot_leave_the_folder(api: Api, path: str) -> None:
    assert api.client.get(path, headers=api.auth("admin")).status_code == 404


def test_alert_detail_links_its_snapshot(api: Api) -> None:
    url = _write_snapshot(api, "gate")
    api.publish(make_alert(1, snapshot_url=url))
    alert = api.client.get("/api/alerts/gate-a1", headers=api.auth("operator")).json()["alert"]
    assert api.client.get(alert["snapshot_url"], headers=api.auth("operator")).status_code == 200


def test_kpi_shows_the_latest_snapshot_per_source(api: Api) -> None:
    api.bus.publish(make_kpi("public_service", values=1))
    api.bus.publish(make_kpi("public_service", values=3))
    api.bus.publish(make_kpi("field_report", values=2, category="field_report"))
    api.bus.publish(make_kpi("operations.traffic", values=4, category="traffic"))

    def fetch(role: str) -> list[dict[str, Any]]:
        return list(api.client.get("/api/kpi", headers=api.auth(role)).json())

    body = _eventually(lambda: fetch("operator"), lambda b: len(b) == 3 and len(b[2]["values"]) == 3)
    assert [(k["source"], len(k["values"])) for k in body] == [
        ("field_report", 2),
        ("operations.traffic", 4),
        ("public_service", 3),
    ]
    assert [k["source"] for k in fetch("traffic")] == ["operations.traffic"]  # only its own category
    assert fetch("police") == []


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    api.publish(make_alert(1))
    ready = api.client.get("/readyz").json()
    assert (ready["status"], ready["checks"], ready["last_seq"]) == ("ready", {"store": True}, 1)
    metrics = api.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "ioc_ws_clients " in metrics.text and "ioc_ws_clients_cut_total" in metrics.text
    api.store.close()
    assert api.client.get("/readyz").status_code == 503


def test_openapi_lists_every_resource(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/api/auth/login", "/api/cameras", "/api/alerts", "/api/alerts/{alert_id}/ack", "/api/kpi"):
        assert path in paths


def test_dashboard_is_served_at_root_when_present(tmp_path: Path) -> None:
    dash = tmp_path / "dash"
    dash.mkdir()
    (dash / "index.html").write_text("<!doctype html><title>IOC</title>", encoding="utf-8")
    for api in build_api(tmp_path, dashboard_dir=dash):
        r = api.client.get("/")
        assert (r.status_code, "<title>IOC</title>" in r.text) == (200, True)
        assert api.client.get("/api/me").status_code == 401  # the mount does not shadow the API


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("gate/2026-01-01/a.jpg", True),
        ("gate/../secret.jpg", False),
        ("../secret.jpg", False),
        ("gate//a.jpg", False),
        ("gate/2026-01-01/a.png", False),
        ("gate/2026-01-01/missing.jpg", False),
        ("gate/link.jpg", False),  # a symlink pointing outside the folder
    ],
)
def test_resolve_snapshot(tmp_path: Path, path: str, found: bool) -> None:
    root = tmp_path / "snapshots"
    (root / "gate" / "2026-01-01").mkdir(parents=True)
    (root / "gate" / "2026-01-01" / "a.jpg").write_bytes(b"x")
    (root / "gate" / "2026-01-01" / "a.png").write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    (root / "gate" / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    assert (resolve_snapshot(root, path) is not None) is found


def test_site_is_public_with_a_centroid_map_centre(tmp_path: Path) -> None:
    config = make_ioc_config(
        site={"name": "Vị Thanh"},
        cameras=[
            {"id": "a", "source": "a.mp4", "location": {"lat": 9.0, "lon": 105.0}},
            {"id": "b", "source": "b.mp4", "location": {"lat": 10.0, "lon": 106.0}},
            {"id": "c", "source": "c.mp4"},
        ],
    )
    for api in build_api(tmp_path, config=config):
        assert api.client.get("/api/site").json() == {
            "name": "Vị Thanh",
            "map_center": {"lat": 9.5, "lon": 105.5},
            "timezone": "Asia/Ho_Chi_Minh",
        }
