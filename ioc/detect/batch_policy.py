"""How many frames the detector loop batches, and how long it waits to fill a batch.

On the CPU the answer stays 1 frame (batching measured slower on a small CPU; see the README).
On CUDA it comes from a table of measured throughput (``MEASURED``): for the table's ``imgsz``
nearest the one asked, the batch with the most frames/s among those whose batch time
(batch / frames-per-second) fits ``latency_budget_seconds``; ties go to the smaller batch. The loop
then waits at most ``MAX_WAIT_SECONDS`` after the first frame for more cameras (the detector loop's
own bound), so batching never adds more than that to a frame's latency. An explicit
``IOC_DETECT_MAX_BATCH`` wins on any device. The detector loop's caller uses
``plan_batch(settings, detector_device(detector), imgsz)``.

The table is measured, not guessed: ``H200_ULTRALYTICS_FP32`` holds the figures from issue 11
(NVIDIA H200, torch 2.11 + CUDA 13, YOLOv8s-World, 1280×720 frames through ``Detector.detect`` on
Ultralytics' CUDA path, FP32). The on-device pipeline's own table is owed: run
``benchmarks/detector_throughput_cuda.py`` on the GPU; it prints rows in this form to paste here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ioc.settings import Settings

CPU_BATCH = 1
MAX_WAIT_SECONDS = 0.05
LATENCY_BUDGET_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Throughput:
    """One measurement: frames/s of a detector path at a model input size and batch size."""

    path: str
    precision: str
    imgsz: int
    batch: int
    frames_per_second: float


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The detector loop's batch bound and wait, and where they came from."""

    max_batch: int
    max_wait_seconds: float
    reason: str


H200_ULTRALYTICS_FP32: tuple[Throughput, ...] = tuple(
    Throughput("ultralytics", "fp32", imgsz, batch, fps)
    for imgsz, row in ((640, (82, 212, 232, 288)), (320, (50, 216, 453, 665)))
    for batch, fps in zip((1, 4, 16, 64), row, strict=True)
)
MEASURED: tuple[Throughput, ...] = H200_ULTRALYTICS_FP32


def best_batch(
    table: Sequence[Throughput], imgsz: int, latency_budget_seconds: float = LATENCY_BUDGET_SECONDS
) -> Throughput:
    """The row to run at ``imgsz``: nearest measured size, most frames/s within the latency budget."""
    if not table:
        raise ValueError("no throughput measurements to choose a batch from")
    nearest = min({row.imgsz for row in table}, key=lambda size: (abs(size - imgsz), size))
    rows = sorted((row for row in table if row.imgsz == nearest), key=lambda row: row.batch)
    fitting = [row for row in rows if row.batch / row.frames_per_second <= latency_budget_seconds] or rows[:1]
    return max(fitting, key=lambda row: (row.frames_per_second, -row.batch))


def detector_device(detector: Any) -> str:
    """The torch device a loaded detector runs on ("cpu" for OpenVINO and anything unknown)."""
    device = getattr(detector, "device", None)
    if device is None:
        device = getattr(getattr(detector, "placement", None), "device", None)
    return str(device) if device is not None else "cpu"


def plan_batch(
    settings: Settings, device: str, imgsz: int, table: Sequence[Throughput] = MEASURED
) -> BatchPlan:
    """The batch plan for a detector on ``device`` (a torch device string) at ``imgsz``."""
    if "detect_max_batch" in settings.model_fields_set:
        return BatchPlan(settings.detect_max_batch, MAX_WAIT_SECONDS, "IOC_DETECT_MAX_BATCH")
    if not device.startswith("cuda"):
        return BatchPlan(CPU_BATCH, MAX_WAIT_SECONDS, "CPU default")
    row = best_batch(table, imgsz)
    measured = f"{row.path} {row.precision} measured {row.frames_per_second:g} frames/s"
    reason = f"{measured} at imgsz {row.imgsz}, batch {row.batch}"
    return BatchPlan(row.batch, MAX_WAIT_SECONDS, reason)
