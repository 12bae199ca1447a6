"""Detector batch sizing: CPU stays at 1, CUDA comes from the measured table, an explicit setting wins."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ioc.detect.base import Backend
from ioc.detect.batch_policy import (
    H200_ULTRALYTICS_FP32,
    BatchPlan,
    Throughput,
    best_batch,
    detector_device,
    plan_batch,
)
from ioc.detect.batch_policy import (
    MAX_WAIT_SECONDS as WAIT,
)
from ioc.detect.ultralytics_backend import Placement
from ioc.settings import Settings

BY = "ultralytics fp32 measured"


@pytest.mark.parametrize(
    ("imgsz", "budget", "batch"),
    [
        (640, 0.1, 16),  # b64 would take 0.22 s per batch at 288 frames/s
        (640, 0.25, 64),
        (320, 0.1, 64),  # 64 / 665 = 0.096 s
        (320, 0.05, 16),
        (640, 0.001, 1),  # nothing fits: the smallest batch
        (480, 0.1, 64),  # equally near 320 and 640: the smaller size's row
        (1280, 0.1, 16),  # nearest measured size is 640
    ],
)
def test_best_batch_from_the_h200_table(imgsz: int, budget: float, batch: int) -> None:
    assert best_batch(H200_ULTRALYTICS_FP32, imgsz, budget).batch == batch


def test_the_table_is_the_issue_measurement() -> None:
    fps = {(r.imgsz, r.batch): r.frames_per_second for r in H200_ULTRALYTICS_FP32}
    assert fps == {
        (640, 1): 82, (640, 4): 212, (640, 16): 232, (640, 64): 288,
        (320, 1): 50, (320, 4): 216, (320, 16): 453, (320, 64): 665,
    }  # fmt: skip


def test_ties_go_to_the_smaller_batch() -> None:
    table = [Throughput("x", "fp16", 640, b, 100.0) for b in (1, 4, 8)]
    assert best_batch(table, 640, 1.0).batch == 1


@pytest.mark.parametrize(
    ("settings", "device", "imgsz", "expected"),
    [
        (Settings(), "cpu", 640, BatchPlan(1, WAIT, "CPU default")),
        (Settings(), "cuda:0", 640, BatchPlan(16, WAIT, f"{BY} 232 frames/s at imgsz 640, batch 16")),
        (Settings(), "cuda", 320, BatchPlan(64, WAIT, f"{BY} 665 frames/s at imgsz 320, batch 64")),
        (Settings(detect_max_batch=4), "cuda:0", 640, BatchPlan(4, WAIT, "IOC_DETECT_MAX_BATCH")),
        (Settings(detect_max_batch=1), "cuda:0", 320, BatchPlan(1, WAIT, "IOC_DETECT_MAX_BATCH")),
        (Settings(detect_max_batch=8), "cpu", 320, BatchPlan(8, WAIT, "IOC_DETECT_MAX_BATCH")),
    ],
)  # fmt: skip
def test_plan_batch(settings: Settings, device: str, imgsz: int, expected: BatchPlan) -> None:
    assert plan_batch(settings, device, imgsz) == expected


def test_explicit_batch_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DETECT_MAX_BATCH", "2")
    assert plan_batch(Settings(), "cuda:0", 640).max_batch == 2


def test_empty_table_is_refused() -> None:
    with pytest.raises(ValueError, match="no throughput measurements"):
        best_batch([], 640)


@dataclass(frozen=True)
class _OnDevice:
    device: str


@dataclass(frozen=True)
class _Placed:
    placement: Placement


@pytest.mark.parametrize(
    ("detector", "device"),
    [
        (_OnDevice("cuda:1"), "cuda:1"),  # CudaDetector, FallbackDetector
        (_Placed(Placement(Backend.PYTORCH, "cuda:0")), "cuda:0"),  # UltralyticsDetector
        (object(), "cpu"),  # OpenVINODetector
    ],
)
def test_detector_device(detector: object, device: str) -> None:
    assert detector_device(detector) == device
