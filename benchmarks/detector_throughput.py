"""Detector throughput and recall: Ultralytics PyTorch predict (baseline) vs OpenVINO FP32 vs INT8,
whole frames vs regions.

All contenders run in this process, batch 1, on the same frames of real footage: consecutive
frames at ``detect.fps`` (5/s) of Debian's ``vtest.avi`` pedestrians and the demo's ``gate.mp4``,
as a camera worker sees them. They take turns in blocks of a few frames, so all of them see the
same machine load:

- ``pytorch``: the ``.pt`` through ``ultralytics`` ``predict``, what a user starts from (baseline);
- ``openvino-fp32``: the cached FP32 export on the OpenVINO runtime, what ``ioc`` runs on a CPU
  (on a CPU with AMX, OpenVINO runs it in bfloat16; the table says which);
- ``openvino-int8``: the cached INT8 model of ``ioc models export --int8`` (skipped if missing);
- ``... + regions``: each OpenVINO model driven by the live detection strategy
  (``regions_contenders``): the camera's ``DetectionPlanner`` decides per frame between a whole
  frame, crops around motion and around the objects found on the previous frame, or no detector
  at all; ``run_plans`` runs it. On a frame without a detector pass the previous detections stand
  (what the tracker would hold).

Every contender looks for the default ``detect.classes`` at confidence 0.35. Recall, mean IoU and
precision are measured against PyTorch at imgsz 640 on the same frames (``ioc.detect.accuracy``:
same class, IoU >= 0.5). Prints a Markdown table with ms/frame (total time / frames: a region
mode's frames cost anything from nothing to several passes), frames/s and the speed relative to the
baseline. The previous frame's detections stand in for the tracker's objects, all of them moving:
a busy scene's crops then cover most of the frame and the planner falls back to whole frames, so
this measures a busy camera; what region mode saves on quiet ones is `benchmarks/capacity.py`'s.

    python benchmarks/detector_throughput.py --frames 40 --imgsz 320
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ioc.cli import offline_environment
from ioc.config.models import CameraConfig, DetectConfig
from ioc.detect.accuracy import Agreement, compare
from ioc.detect.base import Backend, Detector, Precision
from ioc.pipeline.execute import run_plans
from ioc.pipeline.planner import DetectionPlanner
from ioc.types import Detections, Frame, TrackHint

BLOCK = 4
CONFIDENCE = 0.35
REFERENCE_IMGSZ = 640
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


CLASSES: tuple[str, ...] = DetectConfig().classes


@dataclass(frozen=True, slots=True)
class Contender:
    """One way of getting detections for one frame, and what to call it in the table."""

    name: str
    imgsz: int
    run: Callable[[Frame], Detections]
    note: str = ""
    regions: bool = False  # stateful: no warm-up


def plain(detector: Detector, imgsz: int) -> Callable[[Frame], Detections]:
    """Whole-frame detection: one image, one call."""
    return lambda frame: detector.detect([frame.image], imgsz=imgsz, confidence=CONFIDENCE, classes=CLASSES)[
        0
    ]


class RegionRunner:
    """The live strategy for each source: planner → whole frame, crops or nothing → detections."""

    def __init__(self, detector: Detector, imgsz: int) -> None:
        self._detector = detector
        self._imgsz = imgsz
        self._planners: dict[str, DetectionPlanner] = {}
        self._last: dict[str, tuple[float, Detections]] = {}

    def __call__(self, frame: Frame) -> Detections:
        cam = frame.camera_id
        if cam not in self._planners:
            config = CameraConfig(id=cam, source=f"{cam}.mp4", detect=DetectConfig(imgsz=self._imgsz))
            self._planners[cam] = DetectionPlanner(config)
        planner = self._planners[cam]
        seen_at, last = self._last.get(cam, (frame.timestamp, Detections.empty()))
        plan = planner.plan(frame, hints(last, seen_at))
        if plan is None:
            return last
        found = run_plans(self._detector, [plan])[0] if plan.runs_detector else last
        planner.done(plan)
        found = found[np.isin(found.class_name, np.asarray(CLASSES, dtype=object))]
        self._last[cam] = (frame.timestamp, found)
        return found


def hints(dets: Detections, seen_at: float) -> list[TrackHint]:
    """The previous frame's detections as moving objects (the planner crops around them)."""
    out = []
    for i in range(len(dets)):
        x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
        name = str(dets.class_name[i])
        out.append(TrackHint(i, name, (x1, y1, x2, y2), False, False, seen_at, seen_at))
    return out


def regions_contenders(detectors: dict[str, Detector], imgsz: int) -> list[Contender]:
    """Region mode for each detector: ``RegionRunner`` (``ioc.pipeline.planner`` + ``execute``)."""
    return [
        Contender(f"{name} + regions", imgsz, RegionRunner(det, imgsz), "planner: full/crops/none", True)
        for name, det in detectors.items()
    ]


def sample_frames(sources: Sequence[Path], per_source: int) -> tuple[list[Frame], list[str]]:
    """``per_source`` consecutive frames at ``detect.fps`` from each readable file, full resolution."""
    from ioc.ingest.sources import SourceError, iter_file_frames, probe_file

    frames: list[Frame] = []
    used: list[str] = []
    for path in sources:
        try:
            stride = max(1, round(probe_file(path).fps / DetectConfig().fps))
            got = [f for f in iter_file_frames(path) if f.index % stride == 0][:per_source]
        except SourceError as exc:
            print(f"skipping {path}: {exc.reason}")
            continue
        frames += got
        used.append(f"{path.name} ({len(got)})")
    return frames, used


Results = dict[str, tuple[float, list[Detections]]]


def measure(contenders: Sequence[Contender], frames: Sequence[Frame]) -> Results:
    """Mean ms/frame (total time / frames) and the detections of each contender, in turns."""
    for c in contenders:  # warm-up: first calls compile and allocate (region runners share models)
        for frame in frames[:2] if not c.regions else []:
            c.run(frame)
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    found: dict[str, list[Detections]] = {c.name: [] for c in contenders}
    for start in range(0, len(frames), BLOCK):
        for c in contenders:
            for frame in frames[start : start + BLOCK]:
                t0 = time.perf_counter()
                found[c.name].append(c.run(frame))
                times[c.name].append(time.perf_counter() - t0)
    return {name: (1000.0 * statistics.fmean(times[name]), found[name]) for name in times}


def load_contenders(model: str, models_dir: Path, imgsz: int) -> tuple[list[Contender], Contender]:
    """(contenders at ``imgsz``, the PyTorch reference at REFERENCE_IMGSZ)."""
    from ioc.detect.openvino_cache import cached_export
    from ioc.detect.openvino_runtime import OpenVINODetector
    from ioc.detect.ultralytics_backend import load_detector, openvino_fp32_dir
    from ioc.settings import load_settings

    settings = load_settings(models_dir=models_dir, device="cpu")
    weights = models_dir / f"{model}.pt"
    pytorch = load_detector(model, settings, imgsz=imgsz, backend=Backend.PYTORCH)
    fp32 = OpenVINODetector(model, openvino_fp32_dir(weights, imgsz), 0.5)
    out = [
        Contender("pytorch (baseline)", imgsz, plain(pytorch, imgsz), "ultralytics predict"),
        Contender("openvino-fp32", imgsz, plain(fp32, imgsz), f"runs {fp32.inference_precision}"),
    ]
    detectors: dict[str, Detector] = {"openvino-fp32": fp32}
    int8_dir = cached_export(weights, imgsz, Precision.INT8)
    if int8_dir is None:
        print(f"openvino-int8: skipped (no INT8 model for imgsz {imgsz}: run `ioc models export --int8`)")
    else:
        int8 = OpenVINODetector(model, int8_dir, 0.5, precision=Precision.INT8)
        out.append(Contender("openvino-int8", imgsz, plain(int8, imgsz), f"runs {int8.inference_precision}"))
        detectors["openvino-int8"] = int8
    out += regions_contenders(detectors, imgsz)
    reference = Contender("pytorch-640 (reference)", REFERENCE_IMGSZ, plain(pytorch, REFERENCE_IMGSZ))
    return out, reference


def table(rows: Sequence[Contender], results: Results, reference: list[Detections]) -> list[str]:
    base_ms = results[rows[0].name][0]
    lines = [
        "| detector | imgsz | ms/frame | frames/s | speed vs PyTorch | recall | mean IoU | precision "
        "| note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in rows:
        ms, found = results[c.name]
        a: Agreement = compare(reference, found)
        lines.append(
            f"| {c.name} | {c.imgsz} | {ms:.1f} | {1000.0 / ms:.1f} | {base_ms / ms:.2f}x | {a.recall:.3f} | "
            f"{a.mean_iou:.3f} | {a.precision:.3f} | {c.note} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Detector throughput: PyTorch predict vs OpenVINO FP32 vs INT8")
    p.add_argument("--frames", type=int, default=40, help="frames in all (split over the sources)")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--model", default="yolov8s-world", help="manifest name (its .pt is in --models-dir)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--source", type=Path, action="append", help="video file (repeatable); default: footage")
    args = p.parse_args(argv)
    offline_environment()
    import torch

    sources = args.source or [VTEST, Path("data/demo/gate.mp4")]
    frames, used = sample_frames(sources, max(1, args.frames // len(sources)))
    if not frames:
        raise SystemExit("no frames: install opencv-doc, run `ioc demo prepare`, or pass --source")
    contenders, reference = load_contenders(args.model, args.models_dir, args.imgsz)
    results = measure([*contenders, reference], frames)
    print(
        f"model {args.model}, {len(frames)} frames ({', '.join(used)}), batch 1, confidence {CONFIDENCE}, "
        f"torch threads {torch.get_num_threads()}; recall etc. vs PyTorch at imgsz {REFERENCE_IMGSZ}"
    )
    for line in table([*contenders, reference], results, results[reference.name][1]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
