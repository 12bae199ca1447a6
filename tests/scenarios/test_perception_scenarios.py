"""The perception core at the DEFAULT settings, through ``ioc replay`` with the real model, on
scripted clips with exact ground truth: a parked bus too small for a whole-frame pass, a wanderer
crossed by another walker, a group of seven dispersing, a re-entry after 20 s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ioc.cli import main
from ioc.pipeline.footage import Script, street_background, write_script
from tests.scenarios import perception as P
from tests.scenarios.scripts import first_inside

pytestmark = pytest.mark.slow


def _run(tmp: Path, script: Script, config: str) -> list[dict[str, Any]]:
    clip = tmp / "clip.mp4"
    write_script(clip, script, street_background(script.width, script.height))
    (tmp / "cameras.yaml").write_text(config.replace("SOURCE", str(clip)), encoding="utf-8")
    out = tmp / "events.jsonl"
    argv = ["replay", "--config", str(tmp / "cameras.yaml"), "--camera", "scene", "--source", str(clip)]
    argv += ["--events-out", str(out), "--no-snapshots", "--no-progress"]
    assert main(argv) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _starts(alerts: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule_id"] == rule and a["state"] == "start"]


def test_a_parked_bus_is_found_and_its_dwell_alerts_once_on_time(models_dir: Path, tmp_path: Path) -> None:
    alerts = _run(tmp_path, P.PARKED, P.parked_yaml("SOURCE"))
    starts = _starts(alerts, "parked")
    assert len(starts) == 1, starts
    entry = first_inside(P.PARKED, P.NO_STOPPING)
    assert starts[0]["source_time_s"] == pytest.approx(entry + P.PARKED_DWELL_SECONDS, abs=1.0)
    assert starts[0]["object_class"] in {"bus", "truck", "car"}
    ends = [a for a in alerts if a["rule_id"] == "parked" and a["state"] == "end"]
    assert len(ends) == 1 and ends[0]["source_time_s"] < P.PARKED.duration_seconds - 1.0  # it drove off


def test_a_wanderer_crossed_by_a_walker_loiters_once_on_time(models_dir: Path, tmp_path: Path) -> None:
    dwell = P.WANDER_DWELL_SECONDS
    rule = f"{{id: linger, type: loitering, zone: area, classes: [person], min_dwell_seconds: {dwell}}}"
    alerts = _run(tmp_path, P.WANDER, P.people_yaml("SOURCE", P.PLAZA, rule))
    starts = _starts(alerts, "linger")
    assert len(starts) == 1, [(a["source_time_s"], a["track_id"]) for a in starts]
    entry = first_inside(P.WANDER, P.PLAZA)
    assert starts[0]["source_time_s"] == pytest.approx(entry + P.WANDER_DWELL_SECONDS, abs=1.0)


def test_seven_people_dispersing_raise_one_intrusion_each(models_dir: Path, tmp_path: Path) -> None:
    rule = "{id: square, type: intrusion, zone: area, classes: [person]}"
    alerts = _run(tmp_path, P.DISPERSE, P.people_yaml("SOURCE", P.SQUARE, rule))
    starts = _starts(alerts, "square")
    assert len(starts) == len(P.DISPERSE.actors), [(a["source_time_s"], a["track_id"]) for a in starts]
    assert all(a["source_time_s"] < 1.0 for a in starts)  # all there from the first seconds


def test_coming_back_after_20_seconds_is_a_second_intrusion(models_dir: Path, tmp_path: Path) -> None:
    rule = "{id: yard, type: intrusion, zone: area, classes: [person]}"
    alerts = _run(tmp_path, P.REENTRY, P.people_yaml("SOURCE", P.YARD, rule))
    starts = _starts(alerts, "yard")
    assert [round(a["source_time_s"]) for a in starts] == pytest.approx([2, 28], abs=1.5), starts
