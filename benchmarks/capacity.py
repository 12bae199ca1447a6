"""Capacity, live: N RTSP cameras through the whole ioc engine vs the loop a user would write.

N H.264 720p25 cameras are served over RTSP by the GStreamer RTSP server the e2e tests use
(``tests/rtsp_server.py``, one process, a mount per camera): a quarter of them busy (people and a
bus moving, ``city_scenes``), the rest quiet (a parked bus, sensor noise, nothing moving). Two
runs see the same streams, one after the other, each in its own process (so CPU and memory are
its own), with the same model and input size:

- ``ioc``: the whole engine in-process (``ioc.pipeline.supervisor.Engine``: readers, motion gate,
  shared detector loop, tracker, rules, alerts with snapshots) with an intrusion zone on the
  pavement and a counting line for vehicles on every camera, so busy cameras raise alerts;
- ``naive``: ``YOLO(weights).track(source="cameras.streams", stream=True, imgsz=...)``.

Reported per run: detections per second per camera, busy and quiet apart (ioc: frames the
detector ran on, from the Prometheus counter ``ioc_detector_frames_total`` via
``REGISTRY.get_sample_value``, every reason but ``hold``; naive: results per stream), CPU (cores,
all threads), peak RSS, alerts, and ioc's frame-to-alert latency p50/p95/p99 (from each alert's
``started_at``, the capture time of the frame, to the moment the engine published it), then the
ratio of ioc to naive. Needs ``/usr/bin/python3`` with the GStreamer RTSP
server (``scripts/setup.sh --test``). Run from the repository root::

    python -m benchmarks.capacity --cameras 16 --busy 4 --seconds 60 --imgsz 320

Both runs first wait until every camera delivers (``--warmup`` at most), then measure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.city_scenes import FPS, HEIGHT, WIDTH, Scene, city_clip

DETECTED_METRIC = "ioc_detector_frames_total"
"""Per camera and reason, frames the planner handed on; every reason but ``hold`` ran the detector."""
DETECTED_REASONS = ("first", "motion", "tracks", "stationary", "recheck")
CLASSES = ("person", "car", "bus", "truck")
RESULT_TAG = "CAPACITY-RESULT "


@dataclass(frozen=True, slots=True)
class Measured:
    """One run's figures; ``per_camera`` is detections per second by camera id."""

    run: str
    seconds: float
    per_camera: dict[str, float]
    cpu_cores: float
    peak_rss_mib: float
    alerts: int
    latencies_s: list[float]


def camera_ids(n: int) -> list[str]:
    return [f"cam{i:02d}" for i in range(n)]


def is_busy(camera_id: str, busy: int) -> bool:
    return int(camera_id[3:]) < busy


# ---- the ioc run ---------------------------------------------------------------------------


def _camera_config(camera_id: str, url: str, imgsz: int) -> dict[str, Any]:
    return {
        "id": camera_id,
        "source": url,
        "detect": {"imgsz": imgsz, "classes": list(CLASSES)},
        "zones": [{"id": "pavement", "polygon": [[0.0, 0.72], [1.0, 0.72], [1.0, 1.0], [0.0, 1.0]]}],
        "lines": [{"id": "count", "points": [[0.5, 0.3], [0.5, 0.9]]}],
        "rules": [
            {"id": "walk-in", "type": "intrusion", "zone": "pavement", "classes": ["person"]},
            {"id": "vehicles", "type": "line_crossing", "line": "count", "classes": ["car", "bus", "truck"]},
        ],
    }


class _AlertClock:
    """The engine's publish callable: notes when each alert start was published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies_s: list[float] = []
        self.measuring = False

    def __call__(self, message: object) -> None:
        now = time.time()
        started = getattr(message, "started_at", None)
        if not (
            self.measuring and getattr(message, "state", None) == "start" and isinstance(started, datetime)
        ):
            return
        with self._lock:
            self.latencies_s.append(now - started.timestamp())


def _detected(camera_id: str) -> float:
    """Frames of ``camera_id`` the detector has run on so far."""
    from prometheus_client import REGISTRY

    labels = ({"camera": camera_id, "reason": reason} for reason in DETECTED_REASONS)
    return sum(REGISTRY.get_sample_value(DETECTED_METRIC, lab) or 0.0 for lab in labels)


def _wait_warm(ids: list[str], timeout_s: float) -> None:
    """Until every camera has delivered a second of frames and been through the detector."""
    from prometheus_client import REGISTRY

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        read = [REGISTRY.get_sample_value("ioc_frames_read_total", {"camera": c}) or 0.0 for c in ids]
        if min(read) >= FPS and min(_detected(c) for c in ids) >= 1:
            return
        time.sleep(0.5)
    print(f"warning: not every camera was running within {timeout_s:g} s", file=sys.stderr)


def run_ioc(args: argparse.Namespace, urls: dict[str, str]) -> Measured:
    from ioc.cli import offline_environment
    from ioc.config.models import IocConfig
    from ioc.pipeline.supervisor import Engine
    from ioc.settings import load_settings

    offline_environment()
    config = IocConfig.model_validate(
        {"cameras": [_camera_config(c, u, args.imgsz) for c, u in urls.items()]}
    )
    clock = _AlertClock()
    with tempfile.TemporaryDirectory(prefix="ioc-capacity-") as data_dir:
        settings = load_settings(models_dir=args.models_dir.resolve(), data_dir=Path(data_dir))
        with Engine(config, settings, clock):
            _wait_warm(list(urls), args.warmup)
            before = {c: _detected(c) for c in urls}
            cpu0, t0 = time.process_time(), time.monotonic()
            clock.measuring = True
            time.sleep(args.seconds)
            clock.measuring = False
            elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
            per_camera = {c: (_detected(c) - before[c]) / elapsed for c in urls}
    return Measured("ioc", elapsed, per_camera, cpu / elapsed, _peak_rss_mib(), len(clock.latencies_s),
                    clock.latencies_s)  # fmt: skip


# ---- the naive run -------------------------------------------------------------------------


def run_naive(args: argparse.Namespace, urls: dict[str, str]) -> Measured:
    from ioc.cli import offline_environment

    offline_environment()
    from ultralytics import YOLO  # type: ignore[attr-defined]

    model = YOLO(str(args.naive_model or args.models_dir / "yolov8s-world.pt"))
    class_ids = [i for i, name in model.names.items() if name in CLASSES]
    with tempfile.TemporaryDirectory(prefix="ioc-capacity-") as tmp:
        streams = Path(tmp) / "cameras.streams"
        streams.write_text("\n".join(urls.values()) + "\n", encoding="utf-8")
        results = model.track(source=str(streams), stream=True, imgsz=args.imgsz, classes=class_ids,
                              conf=0.35, verbose=False)  # fmt: skip
        next(iter(results))  # streams open and the model is warm (LoadStreams waits for every camera)
        # With stream=True Ultralytics yields one Results per IMAGE (a batch of N streams gives N
        # of them, each with the stream's source as its path, ':' and '/' made '_'): count them per
        # stream. The mount names are the camera ids, so a path ends with "_<camera>".
        counts = dict.fromkeys(urls, 0)
        cpu0, t0 = time.process_time(), time.monotonic()
        for result in results:
            camera = str(result.path).rsplit("_", 1)[-1]
            if camera not in counts:
                raise RuntimeError(f"naive loop: a result for an unknown source {result.path!r}")
            counts[camera] += 1
            if time.monotonic() - t0 >= args.seconds:
                break
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    per_camera = {camera: n / elapsed for camera, n in counts.items()}
    return Measured("naive", elapsed, per_camera, cpu / elapsed, _peak_rss_mib(), 0, [])


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---- the parent: server, runs, table -------------------------------------------------------


def _child(run: str, args: argparse.Namespace, urls: dict[str, str]) -> Measured:
    cmd = [sys.executable, "-m", "benchmarks.capacity", "--run", run, "--urls", json.dumps(urls)]
    cmd += ["--seconds", str(args.seconds), "--imgsz", str(args.imgsz), "--warmup", str(args.warmup)]
    cmd += ["--models-dir", str(args.models_dir)]
    if args.naive_model:
        cmd += ["--naive-model", str(args.naive_model)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ.copy())
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return Measured(**json.loads(line[len(RESULT_TAG) :]))
    raise SystemExit(f"the {run} run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(round(q / 100 * (len(ordered) - 1)), len(ordered) - 1)]


def _row(m: Measured, busy: int) -> str:
    busy_rates = [r for c, r in m.per_camera.items() if is_busy(c, busy)]
    quiet_rates = [r for c, r in m.per_camera.items() if not is_busy(c, busy)]
    mean = sum(busy_rates) / max(len(busy_rates), 1)
    quiet = sum(quiet_rates) / len(quiet_rates) if quiet_rates else float("nan")
    lat = m.latencies_s
    latency = "-" if not lat else " / ".join(f"{_percentile(lat, q):.2f}" for q in (50, 95, 99))
    return (
        f"| {m.run:5s} | {min(busy_rates, default=float('nan')):6.2f} | {mean:6.2f} | {quiet:6.2f} | "
        f"{m.cpu_cores:5.2f} | {m.peak_rss_mib:7.0f} | {m.alerts:6d} | {latency:18s} |"
    )


def _machine() -> str:
    lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), platform.processor()
    )
    return f"{model}, {os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.1f} before the runs"


def report(args: argparse.Namespace, machine: str, runs: list[Measured]) -> None:
    print(f"{args.cameras} cameras ({args.busy} busy), {WIDTH}x{HEIGHT}@{FPS} H.264 over RTSP, "
          f"imgsz {args.imgsz}, {args.seconds:g} s per run; {machine}")  # fmt: skip
    print("| run   | busy det/s min | busy mean | quiet mean | CPU cores | peak RSS MiB | alerts | "
          "frame→alert p50/p95/p99 s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for m in runs:
        print(_row(m, args.busy))
    if len(runs) < 2:
        return
    ioc, naive = runs
    busy_ids = [c for c in ioc.per_camera if is_busy(c, args.busy)]
    worst_ioc = min((ioc.per_camera[c] for c in busy_ids), default=0.0)
    worst_naive = min((naive.per_camera[c] for c in busy_ids), default=0.0)
    if worst_naive > 0:
        ratio = worst_ioc / worst_naive
        print(f"slowest busy camera: ioc {worst_ioc:.2f}/s, naive {worst_naive:.2f}/s, ratio x{ratio:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--cameras", type=int, default=16)
    p.add_argument("--busy", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds per run")
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--warmup", type=float, default=60.0, help="longest wait for every camera, seconds")
    p.add_argument("--gop", type=int, default=50, help="keyframe interval of the served clips, frames")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument(
        "--naive-model", type=Path, default=None, help="weights for the naive loop (default: the .pt)"
    )
    p.add_argument(
        "--only-ioc", action="store_true", help="skip the naive loop (to compare ioc settings or versions)"
    )
    p.add_argument("--run", choices=["ioc", "naive"], help=argparse.SUPPRESS)
    p.add_argument("--urls", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        measured = (run_ioc if args.run == "ioc" else run_naive)(args, json.loads(args.urls))
        print(RESULT_TAG + json.dumps(asdict(measured)), flush=True)
        return
    if args.cameras < 1 or args.seconds <= 0:
        p.error(f"--cameras must be >= 1 and --seconds > 0, got {args.cameras} and {args.seconds:g}")
    if not 0 <= args.busy <= args.cameras:
        p.error(f"--busy must be between 0 and --cameras ({args.cameras}), got {args.busy}")
    serve(args)


def _say(text: str) -> None:
    print(f"capacity: {text}", file=sys.stderr, flush=True)


def serve(args: argparse.Namespace) -> None:
    from tests.rtsp_fixture import RtspServer

    _say("preparing the busy and quiet clips (cached in data/cache/bench/)")
    clips = {scene: city_clip(scene, seconds=20.0, gop=args.gop) for scene in Scene}
    ids = camera_ids(args.cameras)
    mounts = {c: str(clips[Scene.BUSY if is_busy(c, args.busy) else Scene.QUIET].resolve()) for c in ids}
    server = RtspServer(mounts, fps=FPS, width=WIDTH, height=HEIGHT)
    machine = _machine()
    server.start()
    try:
        urls = {c: server.url(c) for c in ids}
        runs = []
        for run in ("ioc",) if args.only_ioc else ("ioc", "naive"):
            _say(f"{run} run: {args.cameras} cameras on RTSP port {server.port}, {args.seconds:g} s measured")
            runs.append(_child(run, args, urls))
    finally:
        server.stop()
    report(args, machine, runs)


if __name__ == "__main__":
    main()
