"""``ioc replay`` with the real model on scripted clips: counts, directions and times match the script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ioc.cli import main
from tests.scenarios.scripts import CROSSING, DWELL, MIN_DWELL_SECONDS, camera_yaml, crossings, first_inside

pytestmark = pytest.mark.slow


def _replay(tmp: Path, clip: Path, name: str) -> tuple[list[dict[str, Any]], Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "cameras.yaml"
    config.write_text(camera_yaml("scene", str(clip)), encoding="utf-8")
    out = tmp / f"{name}.jsonl"
    argv = ["replay", "--config", str(config), "--camera", "scene", "--source", str(clip)]
    argv += ["--events-out", str(out), "--data-dir", str(tmp / "data"), "--no-progress"]
    assert main(argv) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], out


def _starts(alerts: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule_id"] == rule and a["state"] == "start"]


@pytest.fixture(scope="module")
def crossing_run(
    models_dir: Path, clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[dict[str, Any]], Path]:
    return _replay(tmp_path_factory.mktemp("crossing"), clips["crossing"], "crossing")


def test_line_crossings_match_the_script(crossing_run: tuple[list[dict[str, Any]], Path]) -> None:
    alerts, _ = crossing_run
    expected = crossings(CROSSING)
    got = _starts(alerts, "count")
    assert [a["direction"] for a in got] == [c.direction for c in expected]
    for alert, truth in zip(got, expected, strict=True):
        assert alert["source_time_s"] == pytest.approx(truth.t, abs=0.5)
        assert alert["started_at"] == alert["ended_at"]  # an instant event


def test_intrusion_and_loitering_start_on_time(
    models_dir: Path, clips: dict[str, Path], tmp_path: Path
) -> None:
    alerts, _ = _replay(tmp_path, clips["dwell"], "dwell")
    entry = first_inside(DWELL)
    intrusions, loiterings = _starts(alerts, "enter"), _starts(alerts, "linger")
    assert len(intrusions) == 1 and len(loiterings) == 1
    assert intrusions[0]["source_time_s"] == pytest.approx(entry, abs=1.0)
    assert loiterings[0]["source_time_s"] == pytest.approx(entry + MIN_DWELL_SECONDS, abs=1.0)
    ends = {a["rule_id"] for a in alerts if a["state"] == "end"}
    assert ends == {"enter", "linger"}  # she walked out, or the file ended: every alert is closed
    snapshot = intrusions[0]["snapshot_url"]
    assert snapshot is not None
    assert (tmp_path / "data" / snapshot.removeprefix("/")).is_file()


def test_replay_is_deterministic(
    crossing_run: tuple[list[dict[str, Any]], Path],
    clips: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, first = crossing_run
    _, second = _replay(tmp_path, clips["crossing"], "again")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().count(b"\n") >= 2
    summary = capsys.readouterr().out
    assert "count line mid: in 1, out 1" in summary
    assert "camera scene: 120 frames, 12.0 s of video" in summary
