"""Checks ``ioc replay``'s arguments, in the order a user would fix them, and loads the model.

Every problem becomes a one-line ``ReplayError`` naming the argument (no tracebacks).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from ioc.config.loader import ConfigError, load_config
from ioc.config.models import CameraConfig, IocConfig
from ioc.detect.base import Detector
from ioc.detect.manifest import ModelError
from ioc.events.snapshot import SnapshotWriter
from ioc.ingest.sources import FileInfo, SourceError, probe_file
from ioc.pipeline.replay import ReplayError, parse_start_time
from ioc.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class ReplayJob:
    camera: CameraConfig
    source: Path
    info: FileInfo
    start_time: float
    events_out: Path
    snapshots: SnapshotWriter | None
    detector: Detector
    tz: tzinfo  # the site's time zone (rule schedules, clocks)


def prepare(args: argparse.Namespace) -> ReplayJob:
    settings = load_settings(data_dir=args.data_dir) if args.data_dir is not None else load_settings()
    config = _config(args.config)
    camera = _camera(config, args.camera, args.config)
    info = _probe(args.source)
    start_time = parse_start_time(args.start_time)
    events_out = _events_out(args.events_out)
    tz = ZoneInfo(config.site.timezone)
    snapshots = None if args.no_snapshots else SnapshotWriter(settings.snapshots_dir, tz)
    detector = _detector(camera, settings)
    return ReplayJob(camera, args.source, info, start_time, events_out, snapshots, detector, tz)


def _config(path: Path) -> IocConfig:
    if not path.is_file():
        raise ReplayError(f"--config {path}: no such file")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise ReplayError(f"--config {path} is not valid:\n  " + "\n  ".join(exc.errors)) from None


def _camera(config: IocConfig, camera_id: str, path: Path) -> CameraConfig:
    for camera in config.cameras:
        if camera.id == camera_id:
            return camera
    known = ", ".join(c.id for c in config.cameras)
    raise ReplayError(f"--camera {camera_id!r}: not in {path}; cameras there: {known}")


def _probe(source: Path) -> FileInfo:
    if source.is_dir():
        raise ReplayError(f"--source {source}: is a directory, expected a video file")
    if not source.is_file():
        raise ReplayError(f"--source {source}: no such file")
    try:
        info = probe_file(source)
    except SourceError as exc:
        raise ReplayError(f"--source {source}: {exc.reason}") from None
    if info.fps <= 0:
        raise ReplayError(f"--source {source}: no frame rate in the file")
    return info


def _events_out(path: Path) -> Path:
    if path.is_dir():
        raise ReplayError(f"--events-out {path}: is a directory; expected a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayError(f"--events-out {path}: cannot create its folder ({exc.strerror or exc})") from None
    return path


def _detector(camera: CameraConfig, settings: Settings) -> Detector:
    from ioc.detect.ultralytics_backend import load_detector

    try:
        return load_detector(camera.detect.model, settings, imgsz=camera.detect.imgsz, iou=camera.detect.iou)
    except ModelError as exc:
        raise ReplayError(f"camera {camera.id} detect.model {camera.detect.model!r}: {exc}", 1) from None
