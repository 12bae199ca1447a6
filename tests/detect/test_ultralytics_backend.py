"""The real YOLOv8s-World model on Ultralytics' bundled bus.jpg, on OpenVINO and on PyTorch."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from prometheus_client import REGISTRY

from ioc.config.coco import COCO_CLASSES
from ioc.detect.base import Backend
from ioc.detect.models import resolve_model
from ioc.detect.openvino_cache import MARKER, cache_dir_for
from ioc.detect.openvino_runtime import OpenVINODetector
from ioc.detect.ultralytics_backend import UltralyticsDetector, load_detector, load_ultralytics_openvino
from ioc.settings import Settings
from ioc.types import Detections

REPO = Path(__file__).resolve().parents[2]
WHEELS = Path(os.environ.get("IOC_TEST_WHEELS", "/tmp/galaxy"))
MODEL = "yolov8s-world"
IMGSZ = 320
CONF = 0.35


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The repo's models/ (weights are git-ignored), provisioned through ``ioc models fetch``'s path."""
    local_wheels = {"PIP_FIND_LINKS": str(WHEELS), "PIP_NO_INDEX": "1"} if list(WHEELS.glob("*.whl")) else {}
    with _env(local_wheels):
        resolve_model(MODEL, REPO / "models", fetch=True)
    return REPO / "models"


AnyDetector = UltralyticsDetector | OpenVINODetector


@pytest.fixture(scope="session")
def detectors(models_dir: Path) -> dict[Backend, AnyDetector]:
    settings = Settings(models_dir=models_dir, device="cpu", precision="fp32")  # INT8: test_int8_build
    out: dict[Backend, AnyDetector] = {}
    for backend in (Backend.OPENVINO, Backend.PYTORCH):
        det = load_detector(MODEL, settings, imgsz=IMGSZ, backend=backend)
        assert isinstance(det, UltralyticsDetector | OpenVINODetector)
        out[backend] = det
    return out


@pytest.fixture(params=[Backend.OPENVINO, Backend.PYTORCH], ids=str)
def detector(request: pytest.FixtureRequest, detectors: dict[Backend, AnyDetector]) -> AnyDetector:
    det = detectors[request.param]
    assert det.backend is request.param  # no silent fallback in the test environment
    return det


@pytest.fixture(scope="session")
def bus() -> npt.NDArray[np.uint8]:
    import ultralytics

    image = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    assert image is not None
    return image


def _names(d: Detections) -> list[str]:
    return [str(n) for n in d.class_name]


pytestmark = pytest.mark.slow


def test_finds_people_and_the_bus(detector: AnyDetector, bus: npt.NDArray[np.uint8]) -> None:
    (dets,) = detector.detect([bus], imgsz=IMGSZ, confidence=CONF)
    names = _names(dets)
    assert names.count("person") >= 3 and names.count("bus") == 1
    assert all(COCO_CLASSES[c] == n for c, n in zip(dets.class_id, names, strict=True))
    assert np.all(dets.tracker_id == -1) and np.all(dets.confidence >= CONF)
    assert np.all((dets.xyxy >= 0) & (dets.xyxy <= 1))
    assert np.all(dets.xyxy[:, 2] > dets.xyxy[:, 0]) and np.all(dets.xyxy[:, 3] > dets.xyxy[:, 1])
    x1, y1, x2, y2 = dets.xyxy[names.index("bus")]
    assert x1 < 0.1 and x2 > 0.9 and 0.1 < y1 < 0.35 and 0.6 < y2 < 0.8  # the bus spans the picture
    people = dets.xyxy[[n == "person" for n in names]]
    assert np.all(people[:, 3] - people[:, 1] > 0.3)  # standing people, tall boxes


@pytest.mark.parametrize(("classes", "allowed"), [(("bus",), {"bus"}), (("person", "car"), {"person"})])
def test_class_filter(
    detector: AnyDetector, bus: npt.NDArray[np.uint8], classes: tuple[str, ...], allowed: set[str]
) -> None:
    (dets,) = detector.detect([bus], imgsz=IMGSZ, confidence=CONF, classes=classes)
    assert len(dets) > 0 and set(_names(dets)) == allowed


def test_batch_gives_one_result_per_image_in_order(detector: AnyDetector, bus: npt.NDArray[np.uint8]) -> None:
    mirrored = np.ascontiguousarray(bus[:, ::-1])
    black = np.zeros_like(bus)
    single = detector.detect([bus], imgsz=IMGSZ, confidence=CONF)[0]
    out = detector.detect([bus, black, mirrored], imgsz=IMGSZ, confidence=CONF)
    assert [len(d) for d in out][:2] == [len(single), 0]
    assert np.allclose(out[0].xyxy, single.xyxy, atol=0.01)
    bus_box = single.xyxy[_names(single).index("bus")]
    flipped = out[2].xyxy[_names(out[2]).index("bus")]
    assert np.allclose(flipped[[0, 2]], 1.0 - bus_box[[2, 0]], atol=0.02)
    assert detector.detect([], imgsz=IMGSZ, confidence=CONF) == []


def test_backends_agree(detectors: dict[Backend, AnyDetector], bus: npt.NDArray[np.uint8]) -> None:
    ov = detectors[Backend.OPENVINO].detect([bus], imgsz=IMGSZ, confidence=CONF)[0]
    pt = detectors[Backend.PYTORCH].detect([bus], imgsz=IMGSZ, confidence=CONF)[0]
    # Matched by class and position: two boxes of near-equal confidence may come out in either order.
    ov, pt = _by_place(ov), _by_place(pt)
    assert _names(ov) == _names(pt)
    assert np.allclose(ov.xyxy, pt.xyxy, atol=0.01) and np.allclose(ov.confidence, pt.confidence, atol=0.02)


def _by_place(dets: Detections) -> Detections:
    key = [(str(dets.class_name[i]), round(float(dets.xyxy[i, 0]), 2)) for i in range(len(dets))]
    order = sorted(range(len(dets)), key=key.__getitem__)
    return dets[np.asarray(order, dtype=np.int64)]


def test_unknown_class_is_a_clear_error(detector: AnyDetector, bus: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError, match=r"detect.classes: \['unicorn'\] not predicted"):
        detector.detect([bus], imgsz=IMGSZ, confidence=CONF, classes=("unicorn",))


def test_records_inference_metrics(detector: AnyDetector, bus: npt.NDArray[np.uint8]) -> None:
    def count(metric_name: str, labels: dict[str, str]) -> float:
        for metric in REGISTRY.collect():
            for sample in metric.samples:
                if sample.name == metric_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0

    before = count("ioc_inference_seconds_count", {"model": MODEL})
    batches = count("ioc_detector_batch_size_sum", {})
    detector.detect([bus, bus], imgsz=IMGSZ, confidence=CONF)
    assert count("ioc_inference_seconds_count", {"model": MODEL}) == before + 1
    assert count("ioc_detector_batch_size_sum", {}) == batches + 2


def test_openvino_export_is_cached_and_loadable_by_path(
    detectors: dict[Backend, AnyDetector], models_dir: Path, bus: npt.NDArray[np.uint8]
) -> None:
    cache = cache_dir_for(models_dir / f"{MODEL}.pt", IMGSZ)
    assert (cache / MARKER).is_file() and list(cache.glob("*.xml"))
    assert not list(models_dir.glob(f".{MODEL}-partial-*"))
    by_path = load_detector(str(cache), Settings(models_dir=models_dir, device="cpu"))
    assert isinstance(by_path, OpenVINODetector)
    assert _names(by_path.detect([bus], imgsz=IMGSZ, confidence=CONF)[0]).count("bus") == 1


@pytest.mark.parametrize("imgsz", [320, 480])
def test_openvino_runtime_matches_ultralytics_wrapper(
    detectors: dict[Backend, AnyDetector], models_dir: Path, bus: npt.NDArray[np.uint8], imgsz: int
) -> None:
    """Same exported model, our pre/post-processing vs ultralytics': same boxes, mixed sizes too."""
    wrapper = load_ultralytics_openvino(cache_dir_for(models_dir / f"{MODEL}.pt", IMGSZ))
    images = [bus, np.ascontiguousarray(bus[100:600, :700])]
    ours = detectors[Backend.OPENVINO].detect(images, imgsz=imgsz, confidence=0.25)
    theirs = wrapper.detect(images, imgsz=imgsz, confidence=0.25)
    for a, b in zip(ours, theirs, strict=True):
        assert _names(a) == _names(b)
        assert np.allclose(a.xyxy, b.xyxy, atol=0.005) and np.allclose(a.confidence, b.confidence, atol=0.01)


def test_export_failure_falls_back_to_pytorch(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_export(weights: Path, imgsz: int) -> Path:
        raise RuntimeError("no OpenVINO here")

    monkeypatch.setattr("ioc.detect.ultralytics_backend._export_openvino", broken_export)
    with caplog.at_level(logging.WARNING):
        det = load_detector(MODEL, Settings(models_dir=models_dir, device="cpu"), imgsz=288)
    assert isinstance(det, UltralyticsDetector) and det.backend is Backend.PYTORCH
    assert "no OpenVINO here" in caplog.text and "falling back to PyTorch" in caplog.text
