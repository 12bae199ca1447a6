"""``run_compare`` on a real clip with the blob detector: the detector runs once per frame when the
detect settings are equal, once per config otherwise; each config gets its own alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ioc.config.models import CameraConfig
from ioc.ingest.sources import probe_file
from ioc.pipeline.compare import CompareJob, report_lines, run_compare
from tests.factories import BlobDetector, make_camera
from tests.ingest.clips import write_clip

RIGHT_HALF = {"id": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bright box sweeping left to right, 30 frames."""
    return write_clip(tmp_path_factory.mktemp("compare") / "sweep.mp4", frames=30)


def camera(**rule: Any) -> CameraConfig:
    detect = rule.pop("detect", {"classes": ["person"]})
    spec = {"id": "enter", "type": "intrusion", "zone": "right", **rule}
    return make_camera(zones=[RIGHT_HALF], rules=[spec], detect=detect)


@pytest.mark.parametrize(
    ("new", "detectors", "runs_per_frame", "summary"),
    [
        pytest.param(camera(), 1, 1, "appear 0, disappear 0, change 0, same 1", id="same-config"),
        pytest.param(
            camera(severity="critical"), 1, 1, "appear 0, disappear 0, change 1, same 0", id="severity-change"
        ),
        pytest.param(
            camera(detect={"classes": ["person"], "confidence": 0.6}),
            2,
            2,
            "appear 0, disappear 0, change 0, same 1",
            id="detect-differs",
        ),
        pytest.param(camera(enabled=False), 1, 1, "appear 0, disappear 1, change 0, same 0", id="rule-off"),
    ],
)
def test_compare_runs(
    clip: Path, new: CameraConfig, detectors: int, runs_per_frame: int, summary: str
) -> None:
    old = camera()
    found = [BlobDetector() for _ in range(detectors)]
    job = CompareJob(Path("old.yaml"), Path("new.yaml"), old, new, clip, probe_file(clip), 0.0, tuple(found))
    run = run_compare(job)
    assert run.frames == 30
    assert run.detector_runs == 30 * runs_per_frame
    assert sum(d.batches.count(1) for d in found) == 30 * runs_per_frame
    lines = report_lines(job, run, 1.0)
    assert f"detector runs per frame: {runs_per_frame}" in lines[0]
    assert lines[2] == summary
