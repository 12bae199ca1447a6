"""Capacity: N cameras on one shared DetectorLoop vs one detector call per camera frame.

Both runs see the same frames in the same order (synthetic cameras from scripted footage: half of
them busy with walkers, half quiet streets), at each camera's ``detect.fps``, and run the same
camera workers (track → rules → events). The baseline calls the detector once per camera frame;
the shared loop batches the cameras that need it and lets its motion gate skip quiet ones. A third
run keeps batching but opens the motion gate for every frame, to show what batching alone buys.

    python benchmarks/capacity.py --cameras 4 --seconds 6

Prints camera-frames served per second for each run and the ratio against the baseline.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.ingest.slot import LatestFrameSlot
from ioc.pipeline import footage
from ioc.pipeline.detector_loop import CameraFeed, DetectorLoop, MotionGate
from ioc.pipeline.worker import CameraWorker
from ioc.settings import load_settings
from ioc.types import Frame

SOURCE_FPS = 10
DETECT_FPS = 5.0


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    offered: int  # camera-frames offered at detect.fps
    detected: int  # camera-frames that went through the detector
    calls: int
    seconds: float

    @property
    def fps(self) -> float:
        return self.offered / self.seconds


def _camera(i: int) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": f"cam{i}",
            "source": f"cam{i}.mp4",
            "detect": {"fps": DETECT_FPS, "imgsz": 320, "classes": ["person"]},
            "zones": [{"id": "z", "polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]]}],
            "rules": [{"id": "enter", "type": "intrusion", "zone": "z"}],
        }
    )


def _frames(n_cameras: int, seconds: float) -> list[list[Frame]]:
    """Per camera, the frames at detect.fps: even cameras have walkers, odd ones are quiet."""
    background = footage.street_background(640, 480)
    busy = footage.Script(640, 480, SOURCE_FPS, seconds, (
        footage.walk("walker", 0.38, [(0.0, -0.1, 0.85), (seconds, 1.1, 0.85)]),
        footage.walk("suit", 0.36, [(0.0, 1.1, 0.75), (seconds, -0.1, 0.7)]),
    ))  # fmt: skip
    quiet = footage.Script(640, 480, SOURCE_FPS, seconds, ())
    step = round(SOURCE_FPS / DETECT_FPS)
    out = []
    for c in range(n_cameras):
        images = list(footage.frames(busy if c % 2 == 0 else quiet, background))
        out.append([
            Frame(f"cam{c}", img, i / SOURCE_FPS, 1_767_225_600.0 + i / SOURCE_FPS, i)
            for i, img in enumerate(images) if i % step == 0
        ])  # fmt: skip
    return out


class _Counting:
    """Wraps a Detector to count calls and images (same protocol)."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name = inner.name
        self.class_names = inner.class_names
        self.calls = 0
        self.images = 0

    def detect(self, images, *, imgsz, confidence, classes=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.images += len(images)
        return self.inner.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)


def baseline(detector: Detector, cameras: list[CameraConfig], frames: list[list[Frame]]) -> Run:
    counting = _Counting(detector)
    workers = [CameraWorker.build(c, publish=lambda _a: None, snapshots=None) for c in cameras]
    started = time.perf_counter()
    for step in range(len(frames[0])):
        for cam, worker, per_cam in zip(cameras, workers, frames, strict=True):
            frame = per_cam[step]
            d = cam.detect
            dets = counting.detect([frame.image], imgsz=d.imgsz, confidence=d.confidence, classes=d.classes)
            worker.process(frame, dets[0])
    seconds = time.perf_counter() - started
    offered = sum(len(f) for f in frames)
    return Run("one call per camera frame", offered, counting.images, counting.calls, seconds)


def shared(
    name: str, detector: Detector, cameras: list[CameraConfig], frames: list[list[Frame]], gate: MotionGate
) -> Run:
    counting = _Counting(detector)
    workers = [CameraWorker.build(c, publish=lambda _a: None, snapshots=None) for c in cameras]
    slots = [LatestFrameSlot(c.id) for c in cameras]
    clock = _StreamClock()
    loop = DetectorLoop(counting, [CameraFeed(s, w) for s, w in zip(slots, workers, strict=True)],
                        clock=clock, gate=gate)  # fmt: skip
    no_wait = threading.Event()
    no_wait.set()
    started = time.perf_counter()
    for step in range(len(frames[0])):
        clock.now = step * 1.01 / DETECT_FPS  # a hair over one period: float sums never fall short
        for slot, per_cam in zip(slots, frames, strict=True):
            slot.put(per_cam[step])
        batch = loop.collect(no_wait)
        if batch:
            loop.detect(batch)
        for worker in workers:
            worker.drain()
    seconds = time.perf_counter() - started
    offered = sum(len(f) for f in frames)
    return Run(name, offered, counting.images, counting.calls, seconds)


class _StreamClock:
    """The loop's clock follows the stream, so the fps cap sees one frame per camera per step."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--seconds", type=float, default=6.0, help="seconds of footage per camera")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    args = p.parse_args()

    from ioc.cli import offline_environment
    from ioc.detect.ultralytics_backend import load_detector

    offline_environment()  # nothing phones home
    detector = load_detector("yolov8s-world", load_settings(models_dir=args.models_dir))
    cameras = [_camera(i) for i in range(args.cameras)]
    frames = _frames(args.cameras, args.seconds)
    detector.detect([frames[0][0].image], imgsz=320, confidence=0.35)  # warm-up
    runs = [
        baseline(detector, cameras, frames),
        shared("shared loop, batching only", detector, cameras, frames, MotionGate(min_changed_ratio=0.0)),
        shared("shared loop, batching + motion gate", detector, cameras, frames, MotionGate()),
    ]
    print(f"{args.cameras} cameras x {args.seconds:g} s at {DETECT_FPS:g} fps, detector {detector.name}")
    base = runs[0].fps
    for run in runs:
        print(
            f"  {run.name:38s} {run.fps:7.1f} camera-frames/s  x{run.fps / base:.2f}  "
            f"({run.detected} frames detected in {run.calls} calls, {run.seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
