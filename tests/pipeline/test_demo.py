"""``ioc demo prepare`` writes the footage the default cameras.yaml points at, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.cli import main
from ioc.config.loader import load_config
from ioc.ingest.sources import probe_file
from ioc.pipeline.footage import VTEST

REPO = Path(__file__).resolve().parents[2]


def test_default_config_points_at_the_demo_clips() -> None:
    config = load_config(REPO / "cameras.yaml")
    assert {c.source for c in config.cameras} == {"data/demo/street.mp4", "data/demo/gate.mp4"}
    assert {c.category for c in config.cameras} == {"security", "traffic"}
    for camera in config.cameras:
        assert camera.location is not None
        assert abs(camera.location.lat - 9.78) < 0.05 and abs(camera.location.lon - 105.47) < 0.05
        assert {r.type for r in camera.rules} == {"intrusion", "line_crossing", "loitering"}


@pytest.mark.slow
def test_prepare_writes_missing_clips_and_keeps_existing_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "prepare", "--data-dir", str(tmp_path)]) == 0
    street, gate = tmp_path / "demo" / "street.mp4", tmp_path / "demo" / "gate.mp4"
    assert capsys.readouterr().out.count("created") == 2
    street_info, gate_info = probe_file(street), probe_file(gate)
    assert street_info.fps == pytest.approx(10.0)
    assert street_info.frame_count == (795 if VTEST.is_file() else 400)
    assert (gate_info.width, gate_info.height, gate_info.frame_count) == (640, 480, 400)
    before = street.stat().st_mtime_ns
    assert main(["demo", "prepare", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("kept") == 2
    assert street.stat().st_mtime_ns == before
