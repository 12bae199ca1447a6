"""The on-device pipeline, run whole on the CPU device (FP32) with the real model, against Ultralytics.

On this CPU the pipeline's maths is the GPU's: same letterbox, same forward, same NMS, in torch
ops; only the streams and pinned copies are skipped. Its detections must be Ultralytics' own.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import torch
import ultralytics
from prometheus_client import REGISTRY

from ioc.detect import ultralytics_backend
from ioc.detect.accuracy import compare
from ioc.detect.base import Backend
from ioc.detect.cuda_backend import CudaDetector, Precision
from ioc.detect.cuda_select import FallbackDetector
from ioc.detect.models import resolve_model
from ioc.detect.torch_batch import Crop, cut_host
from ioc.detect.ultralytics_backend import Placement, UltralyticsDetector, load_detector
from ioc.settings import Settings
from ioc.types import Detections

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MODEL = "yolov8s-world"
CONF = 0.35


@pytest.fixture(scope="module")
def weights() -> Path:
    return resolve_model(MODEL, REPO / "models")


@pytest.fixture(scope="module")
def reference(weights: Path) -> UltralyticsDetector:
    return UltralyticsDetector(
        MODEL, ultralytics_backend._yolo(weights), Placement(Backend.PYTORCH, "cpu"), 0.5
    )


def _pipeline(weights: Path, chunk_frames: int = 16, module: torch.nn.Module | None = None) -> CudaDetector:
    yolo = ultralytics_backend._yolo(weights)
    return CudaDetector(
        MODEL, module or yolo.model, dict(yolo.names), "cpu", precision=Precision.FP16, iou=0.5,
        chunk_frames=chunk_frames,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pipeline(weights: Path) -> CudaDetector:
    return _pipeline(weights)


@pytest.fixture(scope="module")
def frames() -> list[npt.NDArray[np.uint8]]:
    bus = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    assert bus is not None
    wide = cv2.resize(bus, (1280, 720))
    return [bus, np.ascontiguousarray(bus[:, ::-1]), wide, np.ascontiguousarray(np.roll(wide, 200, axis=1))]


def _same(a: list[Detections], b: list[Detections], *, box_atol: float, conf_atol: float) -> None:
    agreement = compare(a, b)
    assert agreement.recall == 1.0 and agreement.precision == 1.0, agreement.summary()
    assert agreement.max_corner_delta <= box_atol and agreement.mean_iou >= 0.98, agreement.summary()
    for x, y in zip(a, b, strict=True):
        assert sorted(x.confidence.tolist()) == pytest.approx(sorted(y.confidence.tolist()), abs=conf_atol)


def test_runs_fp32_on_the_cpu(pipeline: CudaDetector) -> None:
    assert pipeline.precision is Precision.FP32 and pipeline.backend is Backend.PYTORCH


@pytest.mark.parametrize("imgsz", [320, 640])
@pytest.mark.parametrize("batch", [[0], [2, 3]], ids=str)
def test_matches_ultralytics_predict(
    pipeline: CudaDetector,
    reference: UltralyticsDetector,
    frames: list[npt.NDArray[np.uint8]],
    imgsz: int,
    batch: list[int],
) -> None:
    images = [frames[i] for i in batch]
    ours = pipeline.detect(images, imgsz=imgsz, confidence=CONF)
    theirs = reference.detect(images, imgsz=imgsz, confidence=CONF)
    assert all(len(d) > 0 for d in theirs)
    _same(ours, theirs, box_atol=0.01, conf_atol=0.01)  # Ultralytics resizes on uint8, we in float
    for d in ours:
        assert np.all(d.tracker_id == -1) and np.all((d.xyxy >= 0) & (d.xyxy <= 1))
        assert list(d.class_name) == [ultralytics_backend.COCO_CLASSES[c] for c in d.class_id]


def test_chunks_give_what_one_batch_gives(weights: Path, pipeline: CudaDetector, frames: list) -> None:
    images = frames[2:] * 3  # six 1280×720 frames through chunks of 4: the pipeline's overlap path
    whole = pipeline.detect(images, imgsz=320, confidence=CONF)
    chunked = _pipeline(weights, chunk_frames=4).detect(images, imgsz=320, confidence=CONF)
    _same(chunked, whole, box_atol=1e-4, conf_atol=1e-4)
    streamed = list(pipeline.detect_stream([images[:2], [], images[2:]], imgsz=320, confidence=CONF))
    assert [len(s) for s in streamed] == [2, 0, 4]
    _same(streamed[0] + streamed[2], whole, box_atol=1e-4, conf_atol=1e-4)


def test_regions_are_the_host_crops_detected(pipeline: CudaDetector, frames: list) -> None:
    crops = [Crop(0, 0, 150, 810, 1000), Crop(2, 300, 100, 1280, 720), Crop(0, 0, 0, 810, 1080)]
    ours = pipeline.detect_regions(frames, crops, imgsz=320, confidence=CONF)
    on_host = pipeline.detect(cut_host(frames, crops), imgsz=320, confidence=CONF)
    assert len(ours) == 3 and all(len(d) > 0 for d in ours)
    _same(ours, on_host, box_atol=1e-4, conf_atol=1e-4)  # cut on the device = cut on the host
    (whole,) = pipeline.detect_regions(frames, [Crop(0, 0, 0, 810, 1080)], imgsz=320, confidence=CONF)
    _same([whole], pipeline.detect(frames[:1], imgsz=320, confidence=CONF), box_atol=1e-4, conf_atol=1e-4)
    with pytest.raises(ValueError, match=r"crops\[0\]: image_index 9 is not one of the 4 frames"):
        pipeline.detect_regions(frames, [Crop(9, 0, 0, 1, 1)], imgsz=320, confidence=CONF)
    assert pipeline.detect_regions(frames, [], imgsz=320, confidence=CONF) == []


@pytest.mark.parametrize(
    ("classes", "names"), [(("bus",), {"bus"}), (("person", "car"), {"person"}), ((), set())]
)
def test_class_filter(
    pipeline: CudaDetector, frames: list, classes: tuple[str, ...], names: set[str]
) -> None:
    (dets,) = pipeline.detect(frames[:1], imgsz=320, confidence=CONF, classes=classes)
    assert {str(n) for n in dets.class_name} == names and (len(dets) > 0) == bool(names)


def test_unknown_class_and_bad_frames_are_clear_errors(pipeline: CudaDetector, frames: list) -> None:
    with pytest.raises(ValueError, match=r"detect.classes: \['unicorn'\] not predicted"):
        pipeline.detect(frames[:1], imgsz=320, confidence=CONF, classes=("unicorn",))
    with pytest.raises(ValueError, match=r"images\[1\]: expected a uint8 \(H, W, 3\) BGR frame"):
        pipeline.detect([frames[0], frames[0][..., 0]], imgsz=320, confidence=CONF)
    assert pipeline.detect([], imgsz=320, confidence=CONF) == []


def test_records_inference_metrics(pipeline: CudaDetector, frames: list) -> None:
    before = REGISTRY.get_sample_value("ioc_inference_seconds_count", {"model": MODEL}) or 0.0
    batches = REGISTRY.get_sample_value("ioc_detector_batch_size_sum") or 0.0
    pipeline.detect(frames[:2], imgsz=320, confidence=CONF)
    assert REGISTRY.get_sample_value("ioc_inference_seconds_count", {"model": MODEL}) == before + 1
    assert REGISTRY.get_sample_value("ioc_detector_batch_size_sum") == batches + 2


class _DeviceLost(torch.nn.Module):
    """A model whose device has gone away (what a CUDA error looks like to the caller)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


def test_failure_at_run_time_falls_back_for_good(
    weights: Path, reference: UltralyticsDetector, frames: list, caplog: pytest.LogCaptureFixture
) -> None:
    built: list[UltralyticsDetector] = []

    def fallback() -> UltralyticsDetector:
        built.append(reference)
        return reference

    detector = FallbackDetector(_pipeline(weights, module=_DeviceLost()), fallback)
    with pytest.raises(ValueError, match="unicorn"):  # the caller's mistake is not a device failure
        detector.detect(frames[:1], imgsz=320, confidence=CONF, classes=("unicorn",))
    assert not built
    with caplog.at_level(logging.ERROR):
        (dets,) = detector.detect(frames[:1], imgsz=320, confidence=CONF)  # the failed batch is not lost
    assert [str(n) for n in dets.class_name].count("bus") == 1
    assert (
        "on-device pipeline failed; switching to Ultralytics" in caplog.text
        and "illegal memory" in caplog.text
    )
    regions = detector.detect_regions(frames, [Crop(0, 0, 0, 810, 1080)], imgsz=320, confidence=CONF)
    assert detector.active is reference and len(built) == 1 and len(regions[0]) == len(dets)


@pytest.mark.parametrize("pipeline_on", [True, False])
def test_cuda_placement_picks_the_pipeline_or_falls_back_at_load(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, pipeline_on: bool
) -> None:
    """IOC_DEVICE=cuda: the pipeline when it starts; Ultralytics on the GPU when it cannot (or is off)."""
    gpu = torch.cuda.is_available()
    monkeypatch.setattr(ultralytics_backend, "_cuda_available", lambda: True)
    settings = Settings(models_dir=REPO / "models", device="cuda", cuda_pipeline=pipeline_on)
    with caplog.at_level(logging.WARNING):
        detector = load_detector(MODEL, settings, imgsz=320)
    if pipeline_on and gpu:
        assert isinstance(detector, FallbackDetector) and isinstance(detector.active, CudaDetector)
        return
    assert isinstance(detector, UltralyticsDetector) and detector.placement == Placement(
        Backend.PYTORCH, "cuda:0"
    )
    warned = "on-device pipeline unavailable for yolov8s-world on cuda:0" in caplog.text
    assert warned == pipeline_on  # without a GPU, the pipeline's warm-up fails and says so


def test_cpu_placement_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ultralytics_backend, "_cuda_available", lambda: False)
    detector = load_detector(
        MODEL, Settings(models_dir=REPO / "models", device="cpu"), imgsz=320, backend=Backend.PYTORCH
    )
    assert isinstance(detector, UltralyticsDetector) and detector.placement == Placement(
        Backend.PYTORCH, "cpu"
    )
