from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from ioc.config.models import CameraConfig
from ioc.events import SnapshotWriter, annotate
from ioc.events.snapshot import SEVERITY_COLOR
from ioc.messages import Severity
from ioc.types import Detections
from tests.factories import make_camera, make_detections, make_frame, make_hit

ZONE = {"id": "restricted", "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 0.95], [0.1, 0.95]]}
LINE = {"id": "l1", "points": [[0.05, 0.4], [0.95, 0.45]]}
RULE = {"type": "intrusion", "id": "no-entry", "zone": "restricted", "severity": "critical"}
BBOX = (0.2, 0.3, 0.4, 0.9)


def camera(**fields: object) -> CameraConfig:
    return make_camera(id="gate-1", zones=[ZONE], lines=[LINE], rules=[RULE], **fields)


def dets() -> Detections:
    return make_detections([BBOX, (0.6, 0.2, 0.8, 0.7)], class_name=["person", "car"], tracker_id=[3, 8])


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1920, 1080), (360, 640)])
def test_snapshot_written_as_jpeg_of_frame_size(tmp_path: Path, width: int, height: int) -> None:
    frame = make_frame(5.0, camera_id="gate-1", width=width, height=height)
    hit = make_hit(5.0, track_id=3, bbox=BBOX, value=5.0, value_unit="s")
    url = SnapshotWriter(tmp_path).write(
        frame, dets(), camera(), hit, "gate-1-no-entry-3-1767225605000", "start"
    )
    assert url == "/snapshots/gate-1/2026-01-01/gate-1-no-entry-3-1767225605000-start.jpg"
    path = tmp_path / "gate-1" / "2026-01-01" / "gate-1-no-entry-3-1767225605000-start.jpg"
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (height, width, 3)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.parametrize(
    ("wall_time", "day"),
    [(1_767_225_599.9, "2025-12-31"), (1_767_225_600.0, "2026-01-01"), (0.0, "1970-01-01")],
)
def test_snapshot_day_folder_is_utc(tmp_path: Path, wall_time: float, day: str) -> None:
    frame = make_frame(0.0, camera_id="gate-1", wall_time=wall_time)
    url = SnapshotWriter(tmp_path).write(frame, Detections.empty(), camera(), None, "a-1", "end")
    assert url == f"/snapshots/gate-1/{day}/a-1-end.jpg"
    assert re.fullmatch(r"/snapshots/[\w.-]+/\d{4}-\d{2}-\d{2}/[\w.-]+\.jpg", url)


def test_write_failure_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    frame = make_frame(0.0, camera_id="gate-1")
    with caplog.at_level(logging.ERROR, logger="ioc.events.snapshot"):
        assert SnapshotWriter(blocker).write(frame, dets(), camera(), None, "a-1", "start") is None
    assert "camera gate-1: snapshot" in caplog.text


def test_annotate_draws_on_a_copy() -> None:
    frame = make_frame(0.0, camera_id="gate-1")
    before = frame.image.copy()
    hit = make_hit(0.0, track_id=3, bbox=BBOX)
    out = annotate(frame, dets(), camera(), hit)
    assert np.array_equal(frame.image, before)
    assert out.shape == frame.image.shape and out.dtype == np.uint8
    # header strip is dark, the zone fill tints the inside of the zone
    assert out[2, :, :].mean() < 60
    assert not np.array_equal(out[int(0.85 * 360), int(0.3 * 640)], before[0, 0])
    # the highlighted box edge is drawn in the rule's severity colour (critical = red)
    x, y = round(0.2 * 639), round(0.6 * 359)
    assert tuple(int(v) for v in out[y, x]) == SEVERITY_COLOR[Severity.CRITICAL]


def test_annotate_without_zones_or_detections() -> None:
    frame = make_frame(0.0)
    out = annotate(frame, Detections.empty(), make_camera())
    assert out.shape == frame.image.shape
    assert np.array_equal(out[100:], frame.image[100:])  # only the header changed


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "2026-11-24 05:08:48 UTC"),
        ("Asia/Ho_Chi_Minh", "2026-11-24 12:08:48 UTC+07:00"),
        ("America/Sao_Paulo", "2026-11-24 02:08:48 UTC-03:00"),
    ],
)
def test_header_clock_is_in_the_site_time_zone(zone: str, expected: str) -> None:
    from zoneinfo import ZoneInfo

    from ioc.events.snapshot import _clock_text

    wall = datetime(2026, 11, 24, 5, 8, 48, tzinfo=UTC).timestamp()
    assert _clock_text(wall, ZoneInfo(zone)) == expected
