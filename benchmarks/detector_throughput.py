"""Detector throughput: Ultralytics PyTorch (.pt, the baseline) vs OpenVINO on the CPU.

Three contenders run in this process on the same frames through ``Detector.detect``:
``pytorch`` (the ``.pt`` through ultralytics, baseline), ``ov-ultralytics`` (the cached OpenVINO
export through ultralytics' wrapper) and ``openvino`` (the same export on the OpenVINO runtime
directly, what ``ioc`` uses on a CPU). They take turns in blocks of a few batches, so that all see
the same machine load. Prints median ms/frame at batch 1 and batch 4, each one's ratio to the
baseline, and the batch-4 vs batch-1 ratio.

    python benchmarks/detector_throughput.py --frames 40 --imgsz 320
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ioc.cli import offline_environment

BLOCK_BATCHES = 4
CONFIDENCE = 0.35


def _frames(image: Path | None, count: int) -> list[npt.NDArray[np.uint8]]:
    """``count`` distinct frames: the picture shifted a little each time (as video would be)."""
    if image is None:
        import ultralytics

        image = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    base = cv2.imread(str(image))
    if base is None:
        raise SystemExit(f"cannot read image {image}")
    return [np.ascontiguousarray(np.roll(base, 4 * i, axis=1)) for i in range(count)]


def _measure(
    detectors: dict[str, Any], frames: list[npt.NDArray[np.uint8]], batch: int, imgsz: int
) -> dict[str, float]:
    """Median ms/frame per detector; detectors take turns every BLOCK_BATCHES batches."""
    batches = [frames[i : i + batch] for i in range(0, len(frames) - batch + 1, batch)]
    for detector in detectors.values():  # warm-up (first calls compile / allocate)
        for chunk in batches[:2]:
            detector.detect(chunk, imgsz=imgsz, confidence=CONFIDENCE)
    times: dict[str, list[float]] = {name: [] for name in detectors}
    for start in range(0, len(batches), BLOCK_BATCHES):
        for name, detector in detectors.items():
            for chunk in batches[start : start + BLOCK_BATCHES]:
                t0 = time.perf_counter()
                detector.detect(chunk, imgsz=imgsz, confidence=CONFIDENCE)
                times[name].append(time.perf_counter() - t0)
    return {name: 1000.0 * statistics.median(t) / batch for name, t in times.items()}


def _load(model: str, models_dir: Path, imgsz: int) -> dict[str, Any]:
    from ioc.detect.base import Backend
    from ioc.detect.openvino_cache import cache_dir_for
    from ioc.detect.ultralytics_backend import load_detector, load_ultralytics_openvino
    from ioc.settings import load_settings

    settings = load_settings(models_dir=models_dir, device="cpu")
    pytorch = load_detector(model, settings, imgsz=imgsz, backend=Backend.PYTORCH)
    openvino = load_detector(model, settings, imgsz=imgsz, backend=Backend.OPENVINO)
    if getattr(openvino, "backend", None) is not Backend.OPENVINO:
        raise SystemExit("OpenVINO unavailable (fell back to PyTorch); see the warning above")
    weights = models_dir / f"{model}.pt"
    wrapper = load_ultralytics_openvino(cache_dir_for(weights, imgsz))
    return {"pytorch": pytorch, "ov-ultralytics": wrapper, "openvino": openvino}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Detector throughput: .pt vs OpenVINO")
    p.add_argument("--frames", type=int, default=40, help="frames per measurement (default 40)")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--model", default="yolov8s-world", help="manifest name (its .pt is in --models-dir)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--image", type=Path, default=None, help="default: Ultralytics' bus.jpg")
    args = p.parse_args(argv)
    offline_environment()
    import torch

    detectors = _load(args.model, args.models_dir, args.imgsz)
    frames = _frames(args.image, args.frames)
    threads = torch.get_num_threads()  # after loading: ultralytics sets cpu_count - 1 on the CPU
    print(f"model {args.model}, imgsz {args.imgsz}, {len(frames)} frames, torch threads {threads}")
    results = {batch: _measure(detectors, frames, batch, args.imgsz) for batch in (1, 4)}
    base = results[1]["pytorch"]
    for name in detectors:
        b1, b4 = results[1][name], results[4][name]
        print(
            f"{name:>15}: batch 1 {b1:7.1f} ms/frame ({base / b1:4.2f}x baseline speed) | "
            f"batch 4 {b4:7.1f} ms/frame | batch-4/batch-1 per frame {b4 / b1:4.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
