"""``ioc replay`` with the real model on scripted traffic and crowd clips: every value against the script.

- speeding: buses at known speeds over calibrated ground; the alert's km/h within 10 % of the truth;
- wrong_way: only the bus driving against the allowed direction;
- stopped_vehicle: a bus stopping 20 s in a no-stopping zone while another passes;
- crowding: six people gather in a square and walk away again.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ioc.cli import main
from ioc.pipeline.footage import Script, street_background, write_script
from tests.scenarios.traffic import (
    BUS_A_KMH,
    CALIBRATION,
    CROWD,
    GO_AT,
    NO_STOPPING,
    ROAD,
    SPEED_LIMIT_KMH,
    SQUARE,
    STOP,
    STOP_AT,
    count_inside,
    crowd_span,
    polygon_yaml,
)

pytestmark = pytest.mark.slow

MIN_STOPPED_SECONDS = 10.0
MIN_CROWD, CROWD_SECONDS = 5, 2.0
LOST_TRACK_SECONDS = 1.5


def _cameras_yaml(source: Path) -> str:
    image, world = CALIBRATION["image_points"], CALIBRATION["world_points"]
    vehicles = "detect: {imgsz: 320, classes: [car, bus, truck], confidence: 0.4}"
    return f"""
cameras:
  - id: road
    source: {source}
    {vehicles}
    calibration: {{image_points: {image}, world_points: {world}}}
    rules:
      - {{id: fast, type: speeding, max_kmh: {SPEED_LIMIT_KMH}}}
      - {{id: ww, type: wrong_way, direction: [[0.1, 0.9], [0.9, 0.9]]}}
  - id: stop
    source: {source}
    {vehicles}
    zones: [{{id: no_stopping, polygon: {polygon_yaml(NO_STOPPING)}}}]
    rules:
      - {{id: stopped, type: stopped_vehicle, zone: no_stopping, min_stopped_seconds: {MIN_STOPPED_SECONDS}}}
  - id: crowd
    source: {source}
    detect: {{imgsz: 320, classes: [person], confidence: 0.4}}
    track: {{lost_track_seconds: {LOST_TRACK_SECONDS}}}
    zones: [{{id: square, polygon: {polygon_yaml(SQUARE)}}}]
    rules:
      - {{id: crowd, type: crowding, zone: square, min_count: {MIN_CROWD}, min_seconds: {CROWD_SECONDS}}}
"""


def _replay(tmp: Path, script: Script, camera_id: str) -> list[dict[str, Any]]:
    clip = tmp / f"{camera_id}.mp4"
    write_script(clip, script, street_background(script.width, script.height))
    config = tmp / "cameras.yaml"
    config.write_text(_cameras_yaml(clip), encoding="utf-8")
    out = tmp / f"{camera_id}.jsonl"
    argv = ["replay", "--config", str(config), "--camera", camera_id, "--source", str(clip)]
    argv += ["--events-out", str(out), "--data-dir", str(tmp / "data"), "--no-progress"]
    assert main(argv) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _of(alerts: list[dict[str, Any]], rule: str, state: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule_id"] == rule and a["state"] == state]


@pytest.fixture(scope="module")
def road(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _replay(tmp_path_factory.mktemp("road"), ROAD, "road")


def test_speeding_value_within_10_percent_of_the_truth(road: list[dict[str, Any]]) -> None:
    (start,) = _of(road, "fast", "start")  # bus B (28.8 km/h) stays under the 35 km/h limit
    assert start["value_unit"] == "km/h"
    assert start["value"] == pytest.approx(BUS_A_KMH, rel=0.10)
    assert start["source_time_s"] == pytest.approx(1.5, abs=0.5)  # 1 s to measure, 0.5 s to confirm
    assert start["source_time_s"] < 2.5  # while bus A is in the picture
    assert len(_of(road, "fast", "end")) == 1


def test_only_the_wrong_way_bus_is_flagged(road: list[dict[str, Any]]) -> None:
    (start,) = _of(road, "ww", "start")
    assert start["source_time_s"] > 4.5  # bus B, not bus A
    assert start["source_time_s"] < 6.0  # 0.15 s to cover min_distance, 0.5 s to confirm, detection
    assert start["object_class"] == "bus" and start["value_unit"] == "s"


def test_stopped_bus_in_no_stopping_zone(models_dir: Path, tmp_path: Path) -> None:
    alerts = _replay(tmp_path, STOP, "stop")
    (start,) = _of(alerts, "stopped", "start")  # the passing bus raises nothing
    assert start["source_time_s"] == pytest.approx(STOP_AT + MIN_STOPPED_SECONDS, abs=1.0)
    assert start["value"] == pytest.approx(MIN_STOPPED_SECONDS, abs=1.0)
    (end,) = _of(alerts, "stopped", "end")
    assert end["value"] == pytest.approx(GO_AT - STOP_AT, abs=1.5)  # stopped ~20 s when it drove off


@pytest.fixture(scope="module")
def crowd(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _replay(tmp_path_factory.mktemp("crowd"), CROWD, "crowd")


def test_crowd_forms_and_disperses(crowd: list[dict[str, Any]]) -> None:
    alerts = crowd
    first, last = crowd_span(CROWD, SQUARE, MIN_CROWD)
    (start,) = _of(alerts, "crowd", "start")
    assert start["source_time_s"] == pytest.approx(first + CROWD_SECONDS, abs=1.0)
    assert start["track_id"] is None and start["value"] >= MIN_CROWD and start["value_unit"] == "count"
    (end,) = _of(alerts, "crowd", "end")
    last_hit = start["source_time_s"] + (_at(end["ended_at"]) - _at(start["started_at"])).total_seconds()
    # people walking out of the picture are not seen outside the square: they count for up to
    # lost_track_seconds more (documented), and detection lags the script by a frame or two
    assert last - 0.5 <= last_hit <= last + LOST_TRACK_SECONDS + 1.0
    assert all(m["value"] >= MIN_CROWD for m in [*_of(alerts, "crowd", "update"), end])


def test_crowd_count_never_exceeds_the_people_there(crowd: list[dict[str, Any]]) -> None:
    peak = max(count_inside(CROWD, SQUARE, t) for t in CROWD.times())
    assert max(a["value"] for a in _of(crowd, "crowd", "start") + _of(crowd, "crowd", "update")) <= peak
