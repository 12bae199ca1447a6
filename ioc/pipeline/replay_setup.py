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
    flows_out: Path | None
    snapshots: SnapshotWriter | None
    detector: Detector
    tz: tzinfo  # the site's time zone (rule schedules, clocks)


def prepare(args: argparse.Namespace) -> ReplayJob:
    settings = settings_for(args)
    config = read_config(args.config, "--config")
    camera = camera_in(config, args.camera, args.config)
    info = probe_source(args.source)
    start_time = parse_start_time(args.start_time)
    events_out = _events_out(args.events_out)
    flows_out = _output("--flows-out", args.flows_out) if args.flows_out is not None else None
    tz = ZoneInfo(config.site.timezone)
    snapshots = None if args.no_snapshots else SnapshotWriter(settings.snapshots_dir, tz)
    detector = load_detector_for(camera, settings)
    return ReplayJob(
        camera, args.source, info, start_time, events_out, flows_out, snapshots, detector, tz
    )


def settings_for(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir=args.data_dir) if args.data_dir is not None else load_settings()


def read_config(path: Path, flag: str) -> IocConfig:
    if not path.is_file():
        raise ReplayError(f"{flag} {path}: no such file")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise ReplayError(f"{flag} {path} is not valid:\n  " + "\n  ".join(exc.errors)) from None


def camera_in(config: IocConfig, camera_id: str, path: Path) -> CameraConfig:
    for camera in config.cameras:
        if camera.id == camera_id:
            return camera
    known = ", ".join(c.id for c in config.cameras)
    raise ReplayError(f"--camera {camera_id!r}: not in {path}; cameras there: {known}")


def probe_source(source: Path) -> FileInfo:
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


def _events_out(path: Path | None) -> Path:
    if path is None:
        raise ReplayError("--events-out: required (where the alerts go), unless you --compare two configs")
    return _output("--events-out", path)


def _output(flag: str, path: Path) -> Path:
    if path.is_dir():
        raise ReplayError(f"{flag} {path}: is a directory; expected a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayError(f"{flag} {path}: cannot create its folder ({exc.strerror or exc})") from None
    return path


def load_detector_for(camera: CameraConfig, settings: Settings) -> Detector:
    from ioc.detect.ultralytics_backend import load_detector

    try:
        return load_detector(camera.detect.model, settings, imgsz=camera.detect.imgsz, iou=camera.detect.iou)
    except ModelError as exc:
        raise ReplayError(f"camera {camera.id} detect.model {camera.detect.model!r}: {exc}", 1) from None
