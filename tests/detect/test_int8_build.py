"""``ioc models export --int8`` for real: the real model quantized with NNCF on a few real frames,
checked against FP32, cached, then chosen (or not) by ``load_detector`` per IOC_PRECISION."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from ioc.cli import main
from ioc.detect.base import Precision
from ioc.detect.openvino_cache import MARKER, cache_dir_for
from ioc.detect.openvino_runtime import OpenVINODetector
from ioc.detect.precision import REPORT
from ioc.detect.ultralytics_backend import load_detector
from ioc.pipeline.footage import write_video
from ioc.settings import Settings

REPO = Path(__file__).resolve().parents[2]
IMGSZ = 320

pytestmark = pytest.mark.slow


def _bus() -> npt.NDArray[np.uint8]:
    import ultralytics

    image = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    assert image is not None
    return np.asarray(image, dtype=np.uint8)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(weights, INT8 dir, printed output) of one real ``ioc models export --int8`` on 4 frames."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("int8")
    models = root / "models"
    models.mkdir()
    weights = models / "yolov8s-world.pt"
    weights.symlink_to((REPO / "models" / "yolov8s-world.pt").resolve())
    demo = root / "data" / "demo"
    demo.mkdir(parents=True)
    bus = _bus()
    write_video(demo / "bus.mp4", [np.roll(bus, 6 * i, axis=1) for i in range(8)], fps=10)
    config = root / "cameras.yaml"
    config.write_text(f"cameras:\n  - id: gone\n    source: rtsp://127.0.0.1:{_closed_port()}/x\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([
            "models", "export", str(weights), "--int8", "--imgsz", str(IMGSZ), "--models-dir", str(models),
            "--config", str(config), "--data-dir", str(root / "data"), "--calibration-frames", "4",
        ])  # fmt: skip
    assert code == 0, out.getvalue()
    return weights, cache_dir_for(weights, IMGSZ, Precision.INT8), out.getvalue()


def test_export_prints_the_check_and_keeps_it_beside_the_model(built: tuple[Path, Path, str]) -> None:
    weights, int8_dir, printed = built
    assert json.loads((int8_dir / MARKER).read_text())["precision"] == "int8"
    assert list(int8_dir.glob("*.xml")) and (int8_dir / "metadata.yaml").is_file()
    report = json.loads((int8_dir / REPORT).read_text())
    assert report["agreement"]["frames"] == report["held_out_frames"] >= 1
    assert 0.0 <= report["agreement"]["recall"] <= 1.0 and report["latency"]["int8_ms"] > 0
    assert "skipping rtsp://127.0.0.1:" in printed  # the unreachable camera
    assert "bus.mp4: 3 calibration + 1 held-out frames" in printed
    assert "recall" in printed and "IOC_PRECISION=auto uses:" in printed and str(int8_dir / REPORT) in printed
    assert not list(weights.parent.glob(".yolov8s-world-partial-*"))


def test_int8_model_still_sees_the_bus_and_the_people(built: tuple[Path, Path, str]) -> None:
    _, int8_dir, _ = built
    det = OpenVINODetector("int8", int8_dir, 0.5, precision=Precision.INT8)
    names = list(det.detect([_bus()], imgsz=IMGSZ, confidence=0.35)[0].class_name)
    assert names.count("bus") == 1 and names.count("person") >= 3


def _write_figures(int8_dir: Path, recall: float, speedup: float) -> None:
    report = json.loads((int8_dir / REPORT).read_text())
    report["agreement"]["recall"] = recall
    report["agreement"]["mean_iou"] = 0.97
    report["latency"]["speedup"] = speedup
    (int8_dir / REPORT).write_text(json.dumps(report))


@pytest.mark.parametrize(
    ("setting", "recall", "speedup", "expected", "logged"),
    [
        ("auto", 0.99, 1.5, Precision.INT8, "INT8 check passed"),
        ("auto", 0.80, 1.5, Precision.FP32, "recall 0.800 < 0.95"),
        ("auto", 0.99, 0.9, Precision.FP32, "speed-up 0.90x < 1.1x"),
        ("int8", 0.80, 0.9, Precision.INT8, "IOC_PRECISION=int8"),
        ("fp32", 0.99, 1.5, Precision.FP32, "IOC_PRECISION=fp32"),
    ],
)
def test_load_detector_picks_the_precision(
    built: tuple[Path, Path, str],
    caplog: pytest.LogCaptureFixture,
    setting: str,
    recall: float,
    speedup: float,
    expected: Precision,
    logged: str,
) -> None:
    weights, int8_dir, _ = built
    _write_figures(int8_dir, recall, speedup)
    with caplog.at_level(logging.INFO):
        det = load_detector(
            str(weights), Settings(models_dir=weights.parent, device="cpu", precision=setting)
        )
    assert isinstance(det, OpenVINODetector) and det.precision is expected
    assert logged in caplog.text


def test_int8_that_fails_to_load_falls_back_to_fp32(
    built: tuple[Path, Path, str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    weights, int8_dir, _ = built
    xml = next(int8_dir.glob("*.xml"))
    saved = tmp_path / "saved.xml"
    saved.write_bytes(xml.read_bytes())
    xml.write_text("<net>truncated", encoding="utf-8")
    try:
        with caplog.at_level(logging.WARNING):
            det = load_detector(
                str(weights), Settings(models_dir=weights.parent, device="cpu", precision="int8")
            )
    finally:
        xml.write_bytes(saved.read_bytes())
    assert isinstance(det, OpenVINODetector) and det.precision is Precision.FP32
    assert "INT8 model" in caplog.text and "failed to load" in caplog.text and "using FP32" in caplog.text


def test_second_export_reuses_the_cache(
    built: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    weights, int8_dir, _ = built
    before = (int8_dir / MARKER).stat().st_mtime_ns
    args = ["models", "export", str(weights), "--int8", "--models-dir", str(weights.parent)]
    assert main(args) == 0
    assert "already cached" in capsys.readouterr().out
    assert (int8_dir / MARKER).stat().st_mtime_ns == before
