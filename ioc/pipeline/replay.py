"""``ioc replay``: the camera's pipeline on a recorded file, in video time.

It runs the same detection strategy as a live camera: frames are offered at ``detect.fps`` of video
time, the camera's ``DetectionPlanner`` decides what the detector looks at (motion and track
regions, stationary re-checks, full-frame re-checks, holds) and ``execute.run_plans`` runs it, so
a dry run on footage predicts what the wall will show. Nothing depends on the wall clock or on
machine speed (a live camera under load may also lose frames; a replay never does), so the same
file and config give byte-identical events. Each Alert carries ``source_time_s``, the file time of
the frame that produced it; ``wall_time`` is ``--start-time`` plus that. Open alerts are ended at
end of file. The flow counts of line_crossing rules are printed in the summary (and written to
``--flows-out``, one ``FlowCount`` JSON per line); the last interval is reported, partial, at end
of file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TextIO

from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.events.snapshot import SnapshotWriter
from ioc.ingest.sources import FileInfo, SourceError, iter_file_frames
from ioc.messages import Alert, AlertState, FlowCount
from ioc.pipeline.execute import run_plans
from ioc.pipeline.flow_report import flow_lines
from ioc.pipeline.planner import DetectionPlanner
from ioc.pipeline.progress import Progress
from ioc.pipeline.worker import CameraWorker
from ioc.types import Frame

LONG_FILE_SECONDS = 120.0
"""Files at least this long get a progress bar even when stderr is not a terminal."""


def replay(
    camera: CameraConfig,
    source: Path,
    detector: Detector,
    *,
    frame_rate: float,
    snapshots: SnapshotWriter | None = None,
    start_time: float = 0.0,
    on_frame: Callable[[Frame], object] | None = None,
    tz: tzinfo | None = None,
    on_flow: Callable[[FlowCount], object] | None = None,
) -> Iterator[Alert]:
    """Alerts produced by ``camera``'s rules on every frame of ``source``, in order.

    ``frame_rate`` is the file's frame rate (the tracker's time base); ``start_time`` is the Unix
    time of the first frame; ``tz`` the site's time zone (default: the snapshot writer's).
    ``on_flow`` gets each flow interval as it closes. Raises ``ioc.ingest.sources.SourceError``
    if the file cannot be read.
    """

    def publish(message: Alert | FlowCount) -> None:
        if on_flow is not None and isinstance(message, FlowCount):
            on_flow(message)

    worker = CameraWorker.build(
        camera,
        publish=publish,
        snapshots=snapshots,
        frame_rate=min(frame_rate, camera.detect.fps),
        stamp_source_time=True,
        tz=tz,
    )
    planner = DetectionPlanner(camera)
    offer = _Pacer(camera.detect.fps)
    for frame in iter_file_frames(source, start_time, camera_id=camera.id):
        if offer.due(frame.timestamp):
            plan = planner.plan(frame, worker.track_hints())
            if plan is not None:
                dets = run_plans(detector, [plan])[0]
                planner.done(plan)
                yield from worker.process(frame, dets, plan.coverage)
        if on_frame is not None:
            on_frame(frame)
    yield from worker.flush()


class _Pacer:
    """Offers frames to the planner at most ``fps`` times per second of video time (as the live loop
    takes them from a camera's slot), restarting when video time goes back."""

    def __init__(self, fps: float) -> None:
        self._interval = 1.0 / fps
        self._next: float | None = None

    def due(self, timestamp: float) -> bool:
        if self._next is not None and self._next - self._interval <= timestamp < self._next - 1e-6:
            return False
        self._next = timestamp + self._interval
        return True


@dataclass(slots=True)
class ReplaySummary:
    """What a replay saw; printed at the end of ``ioc replay``."""

    camera_id: str
    frames: int = 0
    video_seconds: float = 0.0
    wall_seconds: float = 0.0
    messages: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # rule, type, state
    crossings: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # rule, line, direction
    flows: list[FlowCount] = field(default_factory=list)
    start_time: float = 0.0  # Unix time of the file's first frame

    def count(self, alert: Alert) -> None:
        self.messages[(alert.rule_id, alert.rule_type, alert.state.value)] += 1
        if alert.rule_type == "line_crossing" and alert.state is AlertState.START and alert.direction:
            self.crossings[(alert.rule_id, alert.line_id or "-", alert.direction)] += 1

    def saw(self, frame: Frame) -> None:
        self.frames += 1
        self.video_seconds = frame.timestamp

    def lines(self, fps: float) -> list[str]:
        video = self.video_seconds + (1.0 / fps if self.frames and fps > 0 else 0.0)
        speed = self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0
        out = [
            f"camera {self.camera_id}: {self.frames} frames, {video:.1f} s of video in "
            f"{self.wall_seconds:.1f} s ({speed:.1f} fps)",
            f"alert messages: {sum(self.messages.values())}",
        ]
        rules = sorted({(r, t) for r, t, _ in self.messages})
        for rule_id, rule_type in rules:
            states = ", ".join(
                f"{s.value} {self.messages[(rule_id, rule_type, s.value)]}"
                for s in AlertState
                if self.messages[(rule_id, rule_type, s.value)]
            )
            out.append(f"  {rule_id} ({rule_type}): {states}")
        lines_seen = sorted({(r, ln) for r, ln, _ in self.crossings})
        if lines_seen:
            out.append("line crossings:")
        for rule_id, line_id in lines_seen:
            counts = ", ".join(f"{d} {self.crossings[(rule_id, line_id, d)]}" for d in ("in", "out"))
            out.append(f"  {rule_id} line {line_id}: {counts}")
        out.extend(flow_lines(self.flows, self.start_time))
        return out


class ReplayError(Exception):
    """A replay that cannot start; ``exit_code`` 2 for bad input, 1 for a runtime failure."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_start_time(text: str) -> float:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ReplayError(
            f"--start-time: expected an ISO 8601 time such as 2026-01-31T08:00:00+07:00, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def replay_command(args: argparse.Namespace) -> int:
    """``ioc replay``: write one Alert JSON per line to ``--events-out`` and print a summary; with
    ``--compare OLD NEW``, print which alerts appear, disappear or change instead."""
    try:
        if args.compare is not None:
            from ioc.pipeline.compare import compare_main

            return compare_main(args, sys.stdout, sys.stderr)
        return _run(args, sys.stdout, sys.stderr)
    except ReplayError as exc:
        print(f"ioc replay: {exc}", file=sys.stderr)
        return exc.exit_code


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ioc.pipeline.replay_setup import prepare

    job = prepare(args)
    summary = ReplaySummary(job.camera.id, start_time=job.start_time)
    progress = progress_for(job.info, args, err)

    def on_frame(frame: Frame) -> None:
        summary.saw(frame)
        if progress is not None:
            progress.update(summary.frames)

    started = time.perf_counter()
    alerts = replay(
        job.camera,
        job.source,
        job.detector,
        frame_rate=job.info.fps,
        snapshots=job.snapshots,
        start_time=job.start_time,
        on_frame=on_frame,
        tz=job.tz,
        on_flow=summary.flows.append,
    )
    try:
        with job.events_out.open("w", encoding="utf-8") as fh:
            for alert in alerts:
                fh.write(alert.model_dump_json() + "\n")
                summary.count(alert)
    except OSError as exc:
        raise ReplayError(f"--events-out {job.events_out}: {exc.strerror or exc}", 1) from None
    except SourceError as exc:
        raise ReplayError(f"--source: {exc}", 1) from None
    finally:
        if progress is not None:
            progress.close()
    summary.wall_seconds = time.perf_counter() - started
    if job.flows_out is not None:
        _write_flows(job.flows_out, summary.flows)
    for line in summary.lines(job.info.fps):
        print(line, file=out)
    print(f"events: {job.events_out}", file=out)
    return 0


def _write_flows(path: Path, flows: list[FlowCount]) -> None:
    try:
        with path.open("w", encoding="utf-8") as fh:
            for flow in flows:
                fh.write(flow.model_dump_json() + "\n")
    except OSError as exc:
        raise ReplayError(f"--flows-out {path}: {exc.strerror or exc}", 1) from None


def progress_for(
    info: FileInfo, args: argparse.Namespace, err: TextIO, label: str = "replay "
) -> Progress | None:
    """A progress bar on ``err`` when it is a terminal or the file is long, unless ``--no-progress``."""
    if args.no_progress:
        return None
    if not (err.isatty() or info.duration_s >= LONG_FILE_SECONDS):
        return None
    return Progress(info.frame_count, err, label=label)
