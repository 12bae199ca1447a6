"""``ioc replay --compare OLD.yaml NEW.yaml --camera ID --source VIDEO``: a dry run of a config change.

Both configs' rules run on the same frames of the file, in video time, each in its own camera
worker (tracker, rules, alert lifecycle), exactly as ``ioc replay`` runs one. When the camera's
``detect`` settings are equal in both files the detector runs once per frame and both workers get
its output; otherwise each config gets its own detector run. Nothing is published or stored and
no snapshot is written. The result is printed: the alerts that appear, disappear or change
(``ioc.pipeline.alert_diff`` says how alerts are matched).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.ingest.sources import FileInfo, SourceError, iter_file_frames
from ioc.messages import Alert
from ioc.pipeline.alert_diff import compare, diff_lines, incidents
from ioc.pipeline.replay import ReplayError, parse_start_time
from ioc.pipeline.worker import CameraWorker
from ioc.types import Detections, Frame


@dataclass(frozen=True, slots=True)
class CompareJob:
    old_path: Path
    new_path: Path
    old: CameraConfig
    new: CameraConfig
    source: Path
    info: FileInfo
    start_time: float
    detectors: tuple[Detector, ...]  # one when the detect settings are equal, else old's and new's


@dataclass(slots=True)
class CompareRun:
    old_alerts: list[Alert]
    new_alerts: list[Alert]
    frames: int = 0
    detector_runs: int = 0


def prepare_compare(args: argparse.Namespace) -> CompareJob:
    from ioc.pipeline.replay_setup import (
        camera_in,
        load_detector_for,
        probe_source,
        read_config,
        settings_for,
    )

    old_path, new_path = (Path(p) for p in args.compare)
    old_config = read_config(old_path, "--compare OLD")
    new_config = read_config(new_path, "--compare NEW")
    old = camera_in(old_config, args.camera, old_path)
    new = camera_in(new_config, args.camera, new_path)
    info = probe_source(args.source)
    start_time = parse_start_time(args.start_time)
    settings = settings_for(args)
    first = load_detector_for(old, settings)
    detectors = (first,) if old.detect == new.detect else (first, load_detector_for(new, settings))
    return CompareJob(old_path, new_path, old, new, args.source, info, start_time, detectors)


def run_compare(job: CompareJob, on_frame: Callable[[Frame], object] | None = None) -> CompareRun:
    """Both workers over every frame of the file; their alerts, in order."""
    workers = [
        CameraWorker.build(
            cam, publish=_ignore, snapshots=None, frame_rate=job.info.fps, stamp_source_time=True
        )
        for cam in (job.old, job.new)
    ]
    run = CompareRun([], [])
    sinks = (run.old_alerts, run.new_alerts)
    for frame in iter_file_frames(job.source, job.start_time, camera_id=job.old.id):
        results = _detect(job, frame)
        run.detector_runs += len(job.detectors)
        for worker, dets, sink in zip(workers, results, sinks, strict=True):
            sink.extend(worker.process(frame, dets))
        run.frames += 1
        if on_frame is not None:
            on_frame(frame)
    for worker, sink in zip(workers, sinks, strict=True):
        sink.extend(worker.flush())
    return run


def _ignore(_message: object) -> None:
    return None


def _detect(job: CompareJob, frame: Frame) -> tuple[Detections, Detections]:
    found = []
    for detector, camera in zip(job.detectors, (job.old, job.new), strict=False):
        d = camera.detect
        found.append(
            detector.detect([frame.image], imgsz=d.imgsz, confidence=d.confidence, classes=d.classes)[0]
        )
    return (found[0], found[-1])


def compare_main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ioc.pipeline.replay import progress_for

    job = prepare_compare(args)
    progress = progress_for(job.info, args, err, label="compare ")
    frames = 0

    def on_frame(_frame: Frame) -> None:
        nonlocal frames
        frames += 1
        if progress is not None:
            progress.update(frames)

    started = time.perf_counter()
    try:
        run = run_compare(job, on_frame)
    except SourceError as exc:
        raise ReplayError(f"--source: {exc}", 1) from None
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - started
    for line in report_lines(job, run, seconds):
        print(line, file=out)
    return 0


def report_lines(job: CompareJob, run: CompareRun, seconds: float) -> list[str]:
    per_frame = run.detector_runs / run.frames if run.frames else 0.0
    shared = len(job.detectors) == 1
    how = "equal: shared" if shared else "differ: one run per config"
    old, new = incidents(run.old_alerts), incidents(run.new_alerts)
    return [
        f"compare camera {job.old.id} on {job.source}: {run.frames} frames in {seconds:.1f} s; "
        f"detector runs per frame: {per_frame:g} (detect settings {how})",
        f"old {job.old_path}: {len(old)} alerts; new {job.new_path}: {len(new)} alerts",
        *diff_lines(compare(old, new)),
    ]
