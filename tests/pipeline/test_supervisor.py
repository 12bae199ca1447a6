"""The engine end to end on real file sources: readers → detector loop → workers → publish."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.config.models import DetectConfig, IocConfig
from ioc.messages import Alert, AlertState, CameraState, CameraStatus
from ioc.pipeline.supervisor import Engine
from ioc.settings import load_settings
from tests.factories import BlobDetector
from tests.ingest.clips import write_clip

YARD = {"id": "yard", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


@pytest.fixture(scope="module")
def sweep_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bright box sweeping left to right across 320x240, 15 fps, 4 s."""
    return write_clip(tmp_path_factory.mktemp("clips") / "sweep.mp4", frames=60)


def _config(good: Path, missing: Path) -> IocConfig:
    camera = {
        "zones": [YARD],
        "rules": [{"id": "enter", "type": "intrusion", "zone": "yard"}],
        "detect": {"fps": 10, "classes": ["person"]},
    }
    return IocConfig.model_validate(
        {
            "cameras": [
                {"id": "good", "source": str(good), **camera},
                {"id": "dead", "source": str(missing), **camera},
                {"id": "off", "source": str(good), "enabled": False},
            ]
        }
    )


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    tick = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        tick.wait(0.05)
    return condition()


def test_engine_runs_cameras_and_one_dead_camera_stalls_nothing(
    sweep_clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ioc")
    published: list[object] = []
    detector = BlobDetector()
    engine = Engine(
        _config(sweep_clip, tmp_path / "missing.mp4"),
        load_settings(data_dir=tmp_path / "data"),
        published.append,
        detector_factory=lambda _detect, _settings: detector,
    )
    assert [s.state for s in engine.camera_statuses()] == [
        CameraState.CONNECTING,
        CameraState.CONNECTING,
        CameraState.OFFLINE,
    ]
    engine.start()
    try:
        started = _wait_for(lambda: any(isinstance(m, Alert) for m in published), 10.0)
        assert started, "no intrusion alert from the sweeping box within 10 s"
        statuses = {s.camera_id: s.state for s in engine.camera_statuses()}
        assert statuses["good"] is CameraState.ONLINE
        assert statuses["dead"] in (CameraState.ERROR, CameraState.OFFLINE)
        live = engine.camera_status("good")
        assert live is not None and live.fps is not None and live.fps > 0  # live, not as of going online
        assert engine.camera_status("nope") is None
        jpeg = engine.latest_frame_jpeg("good")
        assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
        assert engine.latest_frame_jpeg("dead") is None
        assert engine.workers["good"].processed > 0
    finally:
        t0 = time.monotonic()
        engine.stop()
        assert time.monotonic() - t0 < 6.0
    assert not [t for t in threading.enumerate() if t.name.startswith("ioc-") and t.is_alive()]
    online_lines = [r for r in caplog.records if r.getMessage() == "camera good: online (receiving frames)"]
    assert len(online_lines) == 1  # each status change is logged once (by the reader)
    status_cams = {m.camera_id for m in published if isinstance(m, CameraStatus)}
    assert {"good", "dead"} <= status_cams
    alerts = [m for m in published if isinstance(m, Alert)]
    assert alerts[0].state is AlertState.START and alerts[0].camera_id == "good"
    open_ids = {a.id for a in alerts if a.state is AlertState.START} - {
        a.id for a in alerts if a.state is AlertState.END
    }
    assert not open_ids, "stop() must end the alerts that were open"


def test_a_failing_start_step_undoes_the_steps_before_it(sweep_clip: Path, tmp_path: Path) -> None:
    def no_model(detect: DetectConfig, _settings: object) -> BlobDetector:
        raise RuntimeError(f"model {detect.model} missing")

    engine = Engine(
        _config(sweep_clip, tmp_path / "missing.mp4"),
        load_settings(data_dir=tmp_path / "data"),
        lambda _m: None,
        detector_factory=no_model,
    )
    with pytest.raises(RuntimeError, match="missing"):
        engine.start()
    assert engine.workers == {}
    engine.stop()  # idempotent


def test_cameras_get_a_detector_with_their_own_nms_threshold(tmp_path: Path) -> None:
    loaded: list[tuple[str, float, int]] = []

    def factory(detect: DetectConfig, _settings: object) -> BlobDetector:
        loaded.append((detect.model, detect.iou, detect.imgsz))
        return BlobDetector()

    missing = str(tmp_path / "missing.mp4")
    config = IocConfig.model_validate(
        {
            "cameras": [
                {"id": "a", "source": missing, "detect": {"iou": 0.5}},
                {"id": "b", "source": missing, "detect": {"iou": 0.5, "imgsz": 640}},
                {"id": "c", "source": missing, "detect": {"iou": 0.3}},
            ]
        }
    )
    with Engine(config, load_settings(data_dir=tmp_path / "data"), lambda _m: None, detector_factory=factory):
        loops = sorted(t.name for t in threading.enumerate() if t.name.startswith("ioc-detect-"))
    assert loaded == [("yolov8s-world", 0.5, 320), ("yolov8s-world", 0.3, 320)]
    assert loops == ["ioc-detect-yolov8s-world-iou0.3", "ioc-detect-yolov8s-world-iou0.5"]
