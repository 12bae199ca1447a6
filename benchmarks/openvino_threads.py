"""OpenVINO CPU settings for the detector: performance hint, streams, threads, precision hint.

The detector loop calls the model synchronously, one batch at a time, from one thread. This
measures, on the same letterboxed frames of real footage and in turns (same machine load), the
compiled model under each candidate setting, for the FP32 export and (when cached) the INT8 model:

- ``LATENCY, every core`` (OpenVINO's latency default, the baseline): one stream on every core;
- ``ioc``: one stream, every CPU but one (``IOC_OPENVINO_THREADS=0``), leaving a core to decoding;
- ``THROUGHPUT, sync``: several streams, but a synchronous caller uses one at a time;
- ``THROUGHPUT, async``: the streams kept busy with an async queue (what a pipelined detector
  loop could get): frames/s, not the latency of one frame;
- ``ioc, forced f32``: computing in f32 (what a CPU without bf16/AMX does with the FP32 model).

Prints ms per frame (sync: median latency; async: wall time / frames), frames/s and the ratio to
the baseline. The machine's other load matters: run it as the pipeline would run it.

    python benchmarks/openvino_threads.py --frames 20 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from ioc.cli import offline_environment

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
BASELINE = "LATENCY, every core"


def settings() -> dict[str, dict[str, str]]:
    from ioc.detect.openvino_runtime import cpu_config, inference_threads, usable_cpus

    ioc = cpu_config(inference_threads(0, usable_cpus()))
    return {
        BASELINE: {"PERFORMANCE_HINT": "LATENCY"},  # OpenVINO's latency default (ioc before)
        "ioc: LATENCY, CPUs-1 threads": ioc,
        "THROUGHPUT, sync": {"PERFORMANCE_HINT": "THROUGHPUT"},
        "THROUGHPUT, async": {"PERFORMANCE_HINT": "THROUGHPUT"},
        "ioc, forced f32": {**ioc, "INFERENCE_PRECISION_HINT": "f32"},
    }


def tensors(source: Path, count: int, imgsz: int) -> list[Any]:
    from ioc.detect.calibration import sample_source
    from ioc.detect.openvino_runtime import batch_tensor

    return [batch_tensor([image], imgsz)[0] for image in sample_source(str(source), count, imgsz)]


def run_sync(compiled: Any, inputs: list[Any]) -> list[float]:
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        compiled(x)
        times.append(time.perf_counter() - t0)
    return times


def run_async(compiled: Any, inputs: list[Any]) -> list[float]:
    """Wall seconds per frame with the optimal number of requests in flight (one value)."""
    import openvino as ov

    queue = ov.AsyncInferQueue(compiled, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    t0 = time.perf_counter()
    for x in inputs:
        queue.start_async({0: x})
    queue.wait_all()
    return [(time.perf_counter() - t0) / len(inputs)]


def describe(compiled: Any) -> str:
    streams = compiled.get_property("NUM_STREAMS")
    threads = compiled.get_property("INFERENCE_NUM_THREADS")
    precision = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    requests = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
    return f"{streams} stream(s), {threads} threads, {precision}, {requests} request(s)"


def bench_model(xml: Path, inputs: list[Any], rounds: int) -> None:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(xml)
    compiled = {name: core.compile_model(model, "CPU", cfg) for name, cfg in settings().items()}
    samples: dict[str, list[float]] = {name: [] for name in compiled}
    for c in compiled.values():  # warm-up
        run_sync(c, inputs[:2])
    for _ in range(rounds):
        for name, c in compiled.items():
            runner = run_async if name.endswith("async") else run_sync
            samples[name] += runner(c, inputs)
    base = statistics.median(samples[BASELINE])
    print(f"\n{xml.parent.name}: {len(inputs)} frames x {rounds} rounds")
    print("| setting | compiled as | ms/frame | frames/s | vs every core |")
    print("|---|---|---|---|---|")
    for name, c in compiled.items():
        ms = 1000.0 * statistics.median(samples[name])
        print(f"| {name} | {describe(c)} | {ms:.1f} | {1000.0 / ms:.1f} | {1000.0 * base / ms:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="OpenVINO CPU settings for the detector")
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--model", default="yolov8s-world")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--source", type=Path, default=VTEST, help="video file (default: vtest.avi)")
    args = p.parse_args(argv)
    offline_environment()
    from ioc.detect.base import Precision
    from ioc.detect.openvino_cache import cached_export

    weights = args.models_dir / f"{args.model}.pt"
    inputs = tensors(args.source, args.frames, args.imgsz)
    print(f"input {tuple(inputs[0].shape)} from {args.source}; batch 1")
    for precision in (Precision.FP32, Precision.INT8):
        found = cached_export(weights, args.imgsz, precision)
        if found is None:
            print(f"{precision.value}: no cached model for imgsz {args.imgsz} (`ioc models export [--int8]`)")
            continue
        bench_model(next(found.glob("*.xml")), inputs, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
