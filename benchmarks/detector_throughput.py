"""Detector throughput: Ultralytics PyTorch (.pt, the baseline) vs the cached OpenVINO export.

Both run in this process on the same frames, through the product's ``Detector.detect``, taking
turns batch by batch so that both see the same machine load. Prints
ms/frame for each backend at batch 1 and batch 4, the OpenVINO speed-up over the baseline, and
the batch-4 vs batch-1 ratio.

    python benchmarks/detector_throughput.py --frames 40 --imgsz 320
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from ioc.cli import offline_environment


def _frames(image: Path | None, count: int) -> list[npt.NDArray[np.uint8]]:
    """``count`` distinct frames: the picture shifted a little each time (as video would be)."""
    if image is None:
        import ultralytics

        image = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    base = cv2.imread(str(image))
    if base is None:
        raise SystemExit(f"cannot read image {image}")
    return [np.ascontiguousarray(np.roll(base, 4 * i, axis=1)) for i in range(count)]


def _interleaved_ms_per_frame(
    detectors: dict[str, object], frames: list[npt.NDArray[np.uint8]], batch: int, imgsz: int
) -> dict[str, float]:
    """Median ms/frame per detector, taking turns batch by batch so both see the same machine load."""
    for detector in detectors.values():  # warm-up (first calls compile / allocate)
        for _ in range(2):
            detector.detect(frames[:batch], imgsz=imgsz, confidence=0.35)  # type: ignore[attr-defined]
    per_batch: dict[str, list[float]] = {name: [] for name in detectors}
    for start in range(0, len(frames) - batch + 1, batch):
        for name, detector in detectors.items():
            t0 = time.perf_counter()
            detector.detect(frames[start : start + batch], imgsz=imgsz, confidence=0.35)  # type: ignore[attr-defined]
            per_batch[name].append(time.perf_counter() - t0)
    return {name: 1000.0 * statistics.median(times) / batch for name, times in per_batch.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--frames", type=int, default=40, help="frames per measurement (default 40)")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--model", default="yolov8s-world")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--image", type=Path, default=None, help="default: Ultralytics' bus.jpg")
    args = p.parse_args(argv)
    offline_environment()

    import torch

    from ioc.detect.ultralytics_backend import Backend, load_detector
    from ioc.settings import load_settings

    settings = load_settings(models_dir=args.models_dir, device="cpu")
    frames = _frames(args.image, args.frames)
    threads = torch.get_num_threads()
    print(f"model {args.model}, imgsz {args.imgsz}, {len(frames)} frames, torch threads {threads}")
    detectors: dict[str, object] = {}
    for backend in (Backend.PYTORCH, Backend.OPENVINO):
        detector = load_detector(args.model, settings, imgsz=args.imgsz, backend=backend)
        got = getattr(detector, "backend", backend)
        if got is not backend:
            print(f"{backend.value}: unavailable (fell back to {got}); see the warning above")
            return 1
        detectors[backend.value] = detector
    results: dict[tuple[Backend, int], float] = {}
    for batch in (1, 4):
        measured = _interleaved_ms_per_frame(detectors, frames, batch, args.imgsz)
        for backend in (Backend.PYTORCH, Backend.OPENVINO):
            results[backend, batch] = measured[backend.value]
            print(f"{backend.value:>9} batch {batch}: {results[backend, batch]:7.1f} ms/frame")
    pt, ov = results[Backend.PYTORCH, 1], results[Backend.OPENVINO, 1]
    print(f"OpenVINO vs PyTorch baseline (batch 1): {pt / ov:.2f}x faster ({ov / pt:.2f} of baseline time)")
    for backend in (Backend.PYTORCH, Backend.OPENVINO):
        b1, b4 = results[backend, 1], results[backend, 4]
        print(f"{backend.value:>9} batch 4 vs batch 1 per frame: {b4 / b1:.2f} (below 1 = batching helps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
