"""Detector throughput on a CUDA GPU: Ultralytics' predict (today's path) vs the on-device pipeline.

Refuses in one line, exit status 2, when torch sees no CUDA device. On a GPU, for each imgsz
(320, 640) and batch size (1, 4, 16, 64), on the same 1280×720 frames, in this one process:

    ultralytics-fp32   UltralyticsDetector on the GPU: the baseline every ratio is against
    ultralytics-fp16   the same predict call in FP16 (quantize=16)
    pipeline-fp32/16   CudaDetector.detect, one call per batch (what the detector loop does)
    stream-fp16        CudaDetector.detect_stream: batch N+1 uploads while batch N computes
    forward-fp32/16    the model's forward alone on a batch already on the GPU (the ceiling)

Each runs for ``--seconds`` after two warm-up batches; frames/s counts every frame handed in.
Then the accuracy check on held-out frames (not those timed): pipeline FP16 against pipeline
FP32, and pipeline FP32 against Ultralytics FP32 (recall, precision, IoU; ``ioc.detect.accuracy``).
Last, rows to paste into ``ioc/detect/batch_policy.py`` and 5-fps cameras per GPU at the best
setting. Frames come from ``--video`` (default ``data/demo/street.mp4``) or, without it, from
Ultralytics' bus.jpg shifted frame by frame.

    python benchmarks/detector_throughput_cuda.py               # ~3 minutes on one GPU
    python benchmarks/detector_throughput_cuda.py --imgsz 640 --batches 16 64 --seconds 1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ioc.cli import offline_environment

Frame = npt.NDArray[np.uint8]
FRAME_SIZE = (1280, 720)
CONFIDENCE = 0.35
HELD_OUT = 32
WARM_UP_BATCHES = 2
CAMERA_FPS = 5


def _video_frames(path: Path, count: int, step: int = 10) -> list[Frame]:
    """``count`` frames of ``path``, every ``step``-th (distinct scenes), resized to 1280×720."""
    capture = cv2.VideoCapture(str(path))
    frames: list[Frame] = []
    index = 0
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(cv2.resize(frame, FRAME_SIZE))
        index += 1
    capture.release()
    return frames


def _bus_frames(count: int) -> list[Frame]:
    import ultralytics

    bus = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    if bus is None:
        raise SystemExit("cannot read Ultralytics' bus.jpg")
    base = cv2.resize(bus, FRAME_SIZE)
    return [np.ascontiguousarray(np.roll(base[:, :: 1 - 2 * (i % 2)], 7 * i, axis=1)) for i in range(count)]


def frames_for(video: Path | None, timed: int, held_out: int) -> tuple[list[Frame], list[Frame]]:
    """(frames to time, held-out frames for the accuracy check): distinct, 1280×720."""
    count = timed + held_out
    frames = _video_frames(video, count) if video is not None and video.is_file() else []
    if len(frames) < count:
        frames = _bus_frames(count)
    return frames[:timed], frames[timed:]


class _Fp16Yolo:
    """A YOLO object whose predict runs in FP16 (Ultralytics' own ``quantize=16``)."""

    def __init__(self, yolo: Any) -> None:
        self._yolo = yolo
        self.names = yolo.names

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        return self._yolo.predict(*args, quantize=16, **kwargs)


def _detectors(model: str, models_dir: Path, device: str, chunk: int) -> dict[str, Any]:
    from ioc.detect.base import Backend
    from ioc.detect.cuda_backend import CudaDetector, Precision
    from ioc.detect.models import resolve_model
    from ioc.detect.ultralytics_backend import Placement, UltralyticsDetector, _yolo

    weights = resolve_model(model, models_dir)
    place = Placement(Backend.PYTORCH, device)
    out: dict[str, Any] = {
        "ultralytics-fp32": UltralyticsDetector(model, _yolo(weights), place, 0.5),
        "ultralytics-fp16": UltralyticsDetector(model, _Fp16Yolo(_yolo(weights)), place, 0.5),
    }
    for precision in (Precision.FP32, Precision.FP16):
        yolo = _yolo(weights)
        out[f"pipeline-{precision.value}"] = CudaDetector(
            model, yolo.model, dict(yolo.names), device, precision=precision, iou=0.5, chunk_frames=chunk
        )
    return out


def _rate(run: Callable[[], int], seconds: float, sync: Callable[[], None]) -> float:
    """Frames/s of ``run`` (returns frames done) over at least ``seconds`` and three calls."""
    for _ in range(WARM_UP_BATCHES):
        run()
    sync()
    frames, calls, start = 0, 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        frames += run()
        calls += 1
    sync()
    return frames / (time.perf_counter() - start)


def _batches(frames: list[Frame], batch: int) -> Iterator[list[Frame]]:
    k = 0
    while True:
        yield [frames[(k + i) % len(frames)] for i in range(batch)]
        k += batch


def _forward(detector: Any, batch: int, imgsz: int) -> Callable[[], int]:
    """The model alone on a letterboxed batch already on the device."""
    import torch

    from ioc.detect.torch_batch import plan

    (h, w), _ = plan([FRAME_SIZE[::-1]], imgsz)
    module, dtype = detector.module, detector.dtype
    tensor = torch.rand(batch, 3, h, w, device=detector.device).to(dtype)

    def run() -> int:
        with torch.inference_mode():
            module(tensor)
        return batch

    return run


def _measure_config(
    detectors: dict[str, Any], frames: list[Frame], imgsz: int, batch: int, seconds: float
) -> dict[str, float]:
    import torch

    def sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    rates: dict[str, float] = {}
    for name, det in detectors.items():
        feed = _batches(frames, batch)
        rates[name] = _rate(
            lambda d=det, f=feed: len(d.detect(next(f), imgsz=imgsz, confidence=CONFIDENCE)), seconds, sync
        )
    stream_det = detectors["pipeline-fp16"]
    stream = stream_det.detect_stream(_batches(frames, batch), imgsz=imgsz, confidence=CONFIDENCE)
    rates["stream-fp16"] = _rate(lambda: len(next(stream)), seconds, sync)
    for precision in ("fp32", "fp16"):
        rates[f"forward-{precision}"] = _rate(
            _forward(detectors[f"pipeline-{precision}"], batch, imgsz), seconds, sync
        )
    return rates


def _print_rates(imgsz: int, batch: int, rates: dict[str, float]) -> None:
    base = rates["ultralytics-fp32"]
    cells = "  ".join(f"{name} {fps:7.0f}/s ({fps / base:4.1f}x)" for name, fps in rates.items())
    print(f"imgsz {imgsz:4d} batch {batch:3d}: {cells}", flush=True)


def _accuracy(detectors: dict[str, Any], held_out: list[Frame], imgsz: int) -> bool:
    from ioc.detect.accuracy import compare

    def run(name: str) -> list[Any]:
        return list(detectors[name].detect(held_out, imgsz=imgsz, confidence=CONFIDENCE))

    fp32, fp16, ultra = run("pipeline-fp32"), run("pipeline-fp16"), run("ultralytics-fp32")
    half = compare(fp32, fp16)
    print(f"accuracy imgsz {imgsz}: pipeline fp16 vs fp32: {half.summary()}")
    print(f"accuracy imgsz {imgsz}: pipeline fp32 vs ultralytics fp32: {compare(ultra, fp32).summary()}")
    return half.holds


def _report(results: dict[tuple[int, int], dict[str, float]], fp16_holds: bool) -> None:
    print("\nrows for ioc/detect/batch_policy.py (path, precision, imgsz, batch, frames/s):")
    for (imgsz, batch), rates in sorted(results.items()):
        for name in ("pipeline-fp32", "pipeline-fp16"):
            precision = name.split("-")[1]
            print(f'    Throughput("pipeline", "{precision}", {imgsz}, {batch}, {rates[name]:.0f}),')
    name = "pipeline-fp16" if fp16_holds else "pipeline-fp32"
    for imgsz in sorted({k[0] for k in results}):
        best = max((rates[name], batch) for (size, batch), rates in results.items() if size == imgsz)
        print(
            f"imgsz {imgsz}: best {name} {best[0]:.0f} frames/s at batch {best[1]} "
            f"= {best[0] / CAMERA_FPS:.0f} cameras at {CAMERA_FPS} fps per GPU"
        )
    verdict, precision = ("holds", "fp16") if fp16_holds else ("DOES NOT HOLD", "fp32")
    print(f"FP16 {verdict} on the held-out frames: IOC_CUDA_PRECISION={precision} is the right default")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Detector throughput on CUDA: Ultralytics vs the on-device pipeline"
    )
    p.add_argument("--seconds", type=float, default=1.5, help="timed seconds per contender and setting")
    p.add_argument("--imgsz", type=int, nargs="+", default=[320, 640])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--model", default="yolov8s-world", help="manifest name (its .pt is in --models-dir)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--video", type=Path, default=Path("data/demo/street.mp4"))
    p.add_argument("--chunk", type=int, default=16, help="pipeline chunk: frames per upload/compute step")
    p.add_argument("--held-out", type=int, default=HELD_OUT, help="frames for the accuracy check")
    p.add_argument("--device", default="cuda:0", help="cuda:N; 'cpu' only checks that the script runs")
    args = p.parse_args(argv)
    offline_environment()
    import torch

    if args.device != "cpu" and not torch.cuda.is_available():
        print(
            "detector_throughput_cuda: no CUDA device visible to torch; run this on a GPU machine",
            file=sys.stderr,
        )
        return 2
    frames, held_out = frames_for(args.video, max(args.batches), args.held_out)
    detectors = _detectors(args.model, args.models_dir, args.device, args.chunk)
    machine = (
        torch.cuda.get_device_name(args.device)
        if args.device != "cpu"
        else "CPU (a dry run: figures mean nothing)"
    )
    print(f"{machine}, torch {torch.__version__}, model {args.model}, frames 1280x720")
    results: dict[tuple[int, int], dict[str, float]] = {}
    for imgsz in args.imgsz:
        for batch in args.batches:
            results[imgsz, batch] = _measure_config(detectors, frames, imgsz, batch, args.seconds)
            _print_rates(imgsz, batch, results[imgsz, batch])
    checks = [_accuracy(detectors, held_out, imgsz) for imgsz in args.imgsz]  # each prints its figures
    _report(results, all(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
