"""Detector throughput and recall: Ultralytics PyTorch predict (baseline) vs OpenVINO FP32 vs INT8.

All contenders run in this process, batch 1, on the same frames of real footage (Debian's
``vtest.avi`` pedestrians and the demo's ``gate.mp4``, evenly spread), taking turns in blocks of a
few frames so that all see the same machine load:

- ``pytorch``: the ``.pt`` through ``ultralytics`` ``predict``, what a user starts from (baseline);
- ``openvino-fp32``: the cached FP32 export on the OpenVINO runtime, what ``ioc`` runs on a CPU
  (on a CPU with AMX, OpenVINO runs it in bfloat16; the table says which);
- ``openvino-int8``: the cached INT8 model of ``ioc models export --int8`` (skipped if missing);
- ``regions``: the hook for region-based detection (see ``regions_contenders``).

Recall, mean IoU and precision are measured against a reference: PyTorch at imgsz 640 on the same
frames (``ioc.detect.accuracy``: same class, IoU >= 0.5). Prints a Markdown table with median
ms/frame, frames/s and each one's speed relative to the baseline.

    python benchmarks/detector_throughput.py --frames 40 --imgsz 320
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ioc.cli import offline_environment
from ioc.detect.accuracy import Agreement, compare
from ioc.detect.base import Backend, Detector, Precision
from ioc.types import Detections

Image = npt.NDArray[np.uint8]
BLOCK = 4
CONFIDENCE = 0.35
REFERENCE_IMGSZ = 640
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@dataclass(frozen=True, slots=True)
class Contender:
    """One way of getting detections for one frame, and what to call it in the table."""

    name: str
    imgsz: int
    run: Callable[[Image], Detections]
    note: str = ""


def plain(detector: Detector, imgsz: int) -> Callable[[Image], Detections]:
    """Whole-frame detection: one image, one call."""
    return lambda image: detector.detect([image], imgsz=imgsz, confidence=CONFIDENCE)[0]


def regions_contenders(detectors: dict[str, Detector], imgsz: int) -> list[Contender]:
    """HOOK for region mode: contenders that run ``detectors`` on crops (``ioc.detect.regions``).

    To wire it: for each detector, a ``Contender`` whose ``run`` plans regions on the frame the way
    the live pipeline does, runs the crops as one batch and maps the boxes back; its recall is then
    measured against the same reference. Until then this returns nothing and says why.
    """
    if importlib.util.find_spec("ioc.detect.regions") is None:
        print("regions: skipped (ioc.detect.regions is not in this tree yet; hook: regions_contenders)")
    else:
        print("regions: ioc.detect.regions exists but is not wired here yet (hook: regions_contenders)")
    return []


def sample_frames(sources: Sequence[Path], per_source: int) -> tuple[list[Image], list[str]]:
    """``per_source`` frames evenly spread over each readable file, full resolution."""
    from ioc.ingest.sources import SourceError, iter_file_frames, probe_file

    frames: list[Image] = []
    used: list[str] = []
    for path in sources:
        try:
            stride = max(1, probe_file(path).frame_count // per_source)
            got = [f.image for f in iter_file_frames(path) if f.index % stride == 0][:per_source]
        except SourceError as exc:
            print(f"skipping {path}: {exc.reason}")
            continue
        frames += got
        used.append(f"{path.name} ({len(got)})")
    return frames, used


Results = dict[str, tuple[float, list[Detections]]]


def measure(contenders: Sequence[Contender], frames: Sequence[Image]) -> Results:
    """Median ms/frame and the detections of each contender; turns every ``BLOCK`` frames."""
    for c in contenders:  # warm-up: first calls compile and allocate
        for image in frames[:2]:
            c.run(image)
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    found: dict[str, list[Detections]] = {c.name: [] for c in contenders}
    for start in range(0, len(frames), BLOCK):
        for c in contenders:
            for image in frames[start : start + BLOCK]:
                t0 = time.perf_counter()
                found[c.name].append(c.run(image))
                times[c.name].append(time.perf_counter() - t0)
    return {name: (1000.0 * statistics.median(times[name]), found[name]) for name in times}


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
