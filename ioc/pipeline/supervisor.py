"""The engine: readers, camera workers and shared detector loops for every enabled camera.

Start-up is a readable list of steps; shutdown runs the steps that started, in reverse. Every
camera has its own reader thread and worker thread, so one dead camera never stalls another; the
detector loop only takes frames that are there. ``camera_statuses`` and ``latest_frame_jpeg`` are
what the API reads; every status change is also published on the bus.

Hot reload (``apply``): the new config's plan comes from ``ioc.pipeline.config_diff``. Each
camera's reader and worker threads have their own stop event, so one camera can be stopped,
started or reconnected alone: a removed camera stops (its open alerts end), an added one starts,
a camera whose source changed gets a new reader on the same latest-frame slot, and every changed
camera's worker switches config between two frames (``CameraWorker.reconfigure``). A detector
loop is restarted only when the set of cameras it serves changed (a camera added, removed, or
moved to another model); a rule change touches no thread, so no other camera loses a frame.
Detectors a new config needs are loaded before anything is changed: if one cannot be loaded,
the reload fails and the running pipeline is untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ioc.bus.base import Message
from ioc.config.models import CameraConfig, DetectConfig, IocConfig
from ioc.detect.base import Detector
from ioc.detect.batch_policy import detector_device, plan_batch
from ioc.events.snapshot import SnapshotWriter
from ioc.ingest.reader import CameraReader
from ioc.ingest.reasons import Reason
from ioc.ingest.slot import LatestFrameSlot
from ioc.messages import CameraState, CameraStatus, ReasonCode
from ioc.pipeline.config_diff import Change, ConfigDiff, diff_configs
from ioc.pipeline.detector_loop import CameraFeed, DetectorLoop
from ioc.pipeline.worker import CameraWorker
from ioc.settings import Settings
from ioc.types import LiveTile

logger = logging.getLogger(__name__)

PublishMessage = Callable[[Message], object]
DetectorFactory = Callable[[DetectConfig, Settings], Detector]
"""Loads the detector for ``detect.model`` with its NMS ``detect.iou`` (``imgsz`` as a hint)."""

JOIN_SECONDS = 5.0
"""``stop()`` waits at most this long in all for the threads to finish."""


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    start: Callable[[], None]
    stop: Callable[[], None]


class _Runner(Protocol):
    """A thread, or something that owns one (``CameraReader``)."""

    def start(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class _Group:
    """Runners started together and stopped together by one event."""

    stop_event: threading.Event
    runners: tuple[tuple[str, _Runner], ...]
    cameras: tuple[str, ...] = ()  # the cameras a detector loop serves


def _default_detector_factory(detect: DetectConfig, settings: Settings) -> Detector:
    from ioc.detect.ultralytics_backend import load_detector

    return load_detector(detect.model, settings, imgsz=detect.imgsz, iou=detect.iou)


@dataclass(frozen=True, slots=True, order=True)
class _DetectorKey:
    """Cameras share a detector (and its loop) when they use the same model with the same NMS
    threshold; ``iou`` is fixed when a detector is loaded, the other settings apply per call."""

    model: str
    iou: float

    @classmethod
    def of(cls, camera: CameraConfig) -> _DetectorKey:
        return cls(camera.detect.model, camera.detect.iou)


class Engine:
    """Runs the video pipeline for every enabled camera of ``config`` in this process."""

    def __init__(
        self,
        config: IocConfig,
        settings: Settings,
        publish: PublishMessage,
        *,
        detector_factory: DetectorFactory = _default_detector_factory,
        join_seconds: float = JOIN_SECONDS,
    ) -> None:
        self._config = config
        self._settings = settings
        self._publish = publish
        self._detector_factory = detector_factory
        self._join_seconds = join_seconds
        self._cameras = tuple(c for c in config.cameras if c.enabled)
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._statuses: dict[str, CameraStatus] = {c.id: _initial_status(c) for c in config.cameras}
        self._detectors: dict[_DetectorKey, Detector] = {}
        self._snapshots: SnapshotWriter | None = None
        self._workers: dict[str, CameraWorker] = {}
        self._slots: dict[str, LatestFrameSlot] = {}
        self._readers: dict[str, CameraReader] = {}
        self._groups: dict[str, _Group] = {}
        self._started: list[_Step] = []
        self._steps = (
            _Step("load detectors", self._load_detectors, self._detectors.clear),
            _Step("open snapshot store", self._open_snapshots, self._close_snapshots),
            _Step("start camera workers", self._start_workers, lambda: self._stop_groups("worker:")),
            _Step("start camera readers", self._start_readers, self._stop_readers),
            _Step("start detector loops", self._start_detector_loops, lambda: self._stop_groups("detect:")),
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Run the start-up steps in order; if one fails, undo the ones that ran and re-raise."""
        for step in self._steps:
            logger.info("engine: %s", step.name)
            try:
                step.start()
            except Exception:
                logger.exception("engine: %s failed; shutting down what started", step.name)
                self.stop()
                raise
            self._started.append(step)

    def stop(self) -> None:
        """Undo the started steps in reverse order; threads get ``join_seconds`` in all."""
        while self._started:
            step = self._started.pop()
            logger.info("engine: undo %s", step.name)
            try:
                step.stop()
            except Exception:
                logger.exception("engine: undoing %s failed", step.name)

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the API reads -----------------------------------------------------------------

    def camera_statuses(self) -> list[CameraStatus]:
        """Every camera in the config, in config order: state plus live fps, frame age, drops."""
        return [self._status_now(c) for c in self._config.cameras]

    def camera_status(self, camera_id: str) -> CameraStatus | None:
        camera = next((c for c in self._config.cameras if c.id == camera_id), None)
        return None if camera is None else self._status_now(camera)

    def _status_now(self, camera: CameraConfig) -> CameraStatus:
        reader = self._readers.get(camera.id)
        with self._lock:
            status = self._statuses.get(camera.id)  # None for a moment while a reload adds it
        if status is None:
            return _initial_status(camera)
        if reader is None or status.state is not reader.state:
            return status  # not started yet, or stopped: the last reported status
        return reader.snapshot()

    def latest_frame_jpeg(self, camera_id: str) -> bytes | None:
        """The camera's latest processed frame, annotated, as JPEG; None before the first one."""
        worker = self._workers.get(camera_id)
        return None if worker is None else worker.latest_jpeg()

    def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
        """The camera's live tile with its frame index; None before the first frame, or when
        nothing was processed since frame ``after_index`` (``CameraWorker.live_tile``)."""
        worker = self._workers.get(camera_id)
        return None if worker is None else worker.live_tile(after_index)

    @property
    def workers(self) -> dict[str, CameraWorker]:
        return dict(self._workers)

    def detector_loops(self) -> dict[str, tuple[str, ...]]:
        """Each running detector loop (``model:iou``) with the cameras it serves, in config order."""
        groups = dict(self._groups)  # a reload may change it meanwhile
        loops = {name: g for name, g in groups.items() if name.startswith("detect:")}
        return {name.removeprefix("detect:"): group.cameras for name, group in loops.items()}

    # -- steps ------------------------------------------------------------------------------

    def _load_detectors(self) -> None:
        for camera in self._cameras:
            self._load_detector(camera)

    def _load_detector(self, camera: CameraConfig) -> None:
        key = _DetectorKey.of(camera)
        if key not in self._detectors:
            self._detectors[key] = self._detector_factory(camera.detect, self._settings)

    def _open_snapshots(self) -> None:
        self._snapshots = SnapshotWriter(self._settings.snapshots_dir, ZoneInfo(self._config.site.timezone))

    def _close_snapshots(self) -> None:
        self._snapshots = None

    def _start_workers(self) -> None:
        for camera in self._cameras:
            self._start_worker(camera)

    def _start_worker(self, camera: CameraConfig) -> None:
        worker = CameraWorker.build(camera, publish=self._publish, snapshots=self._snapshots)
        self._workers[camera.id] = worker
        stop = threading.Event()
        name = f"ioc-worker-{camera.id}"
        self._launch(
            f"worker:{camera.id}",
            stop,
            [(name, threading.Thread(target=worker.run, args=(stop,), name=name, daemon=True))],
        )

    def _start_readers(self) -> None:
        for camera in self._cameras:
            self._slots[camera.id] = LatestFrameSlot(camera.id)
            self._start_reader(camera)

    def _start_reader(self, camera: CameraConfig) -> None:
        stop = threading.Event()
        self._readers[camera.id] = CameraReader(camera, self._slots[camera.id], self._on_status, stop)
        self._launch(f"reader:{camera.id}", stop, [(f"ioc-reader-{camera.id}", self._readers[camera.id])])

    def _stop_readers(self) -> None:
        self._stop_groups("reader:")
        self._readers.clear()

    def _start_detector_loops(self) -> None:
        for key in sorted(self._detectors):
            self._start_detector_loop(key)

    def _start_detector_loop(self, key: _DetectorKey) -> None:
        cameras = [c for c in self._cameras if _DetectorKey.of(c) == key]
        if not cameras:
            return
        feeds = [CameraFeed(self._slots[c.id], self._workers[c.id]) for c in cameras]
        detector = self._detectors[key]
        plan = plan_batch(self._settings, detector_device(detector), max(c.detect.imgsz for c in cameras))
        logger.info("detector %s: batches of up to %d (%s)", key.model, plan.max_batch, plan.reason)
        loop = DetectorLoop(detector, feeds, max_batch=plan.max_batch, max_wait_seconds=plan.max_wait_seconds)
        name = f"ioc-detect-{key.model}-iou{key.iou:g}"
        stop = threading.Event()
        runner = threading.Thread(target=loop.run, args=(stop,), name=name, daemon=True)
        self._launch(_loop_group(key), stop, [(name, runner)], tuple(c.id for c in cameras))

    def _launch(
        self,
        group: str,
        stop: threading.Event,
        runners: list[tuple[str, _Runner]],
        cameras: tuple[str, ...] = (),
    ) -> None:
        self._groups[group] = _Group(stop, tuple(runners), cameras)
        for _, runner in runners:
            runner.start()

    def _stop_groups(self, prefix: str) -> None:
        """Stop every group whose name starts with ``prefix``, all at once, then join them."""
        self._stop_named([name for name in self._groups if name.startswith(prefix)])

    def _stop_named(self, names: list[str]) -> None:
        groups = [group for name in names if (group := self._groups.pop(name, None)) is not None]
        for group in groups:
            group.stop_event.set()
        deadline = time.monotonic() + self._join_seconds
        for group in groups:
            for name, runner in group.runners:
                runner.join(timeout=max(deadline - time.monotonic(), 0.0))
                if runner.is_alive():
                    logger.warning("engine: %s did not stop in time; left behind (daemon thread)", name)

    # -- hot reload -------------------------------------------------------------------------

    @property
    def config(self) -> IocConfig:
        return self._config

    def apply(self, config: IocConfig, who: str) -> ConfigDiff:
        """Switch the running pipeline to ``config`` (already validated); returns what changed.

        Raises (and changes nothing) when a detector the new config needs cannot be loaded.
        """
        with self._reload_lock:
            diff = diff_configs(self._config, config)
            running = bool(self._started)
            cameras = {c.id: c for c in config.cameras if c.enabled}
            if running:
                for camera_id in self._cameras_needing_detectors(diff):
                    self._load_detector(cameras[camera_id])
            logger.debug("config change by %s: %s", who, "; ".join(diff.summary()))
            touched = self._detector_keys_touched(diff, cameras)
            self._config = config
            self._cameras = tuple(cameras.values())
            if running:
                self._apply_running(diff, cameras, touched)
            self._refresh_statuses(config)
            return diff

    def _cameras_needing_detectors(self, diff: ConfigDiff) -> list[str]:
        return [c.camera_id for c in diff.cameras if c.change is Change.ADDED or c.detector]

    def _detector_keys_touched(self, diff: ConfigDiff, cameras: dict[str, CameraConfig]) -> set[_DetectorKey]:
        old = {c.id: c for c in self._cameras}
        keys: set[_DetectorKey] = set()
        for change in diff.cameras:
            moved = change.change in (Change.ADDED, Change.REMOVED) or change.detector
            if not moved:
                continue
            for camera in (old.get(change.camera_id), cameras.get(change.camera_id)):
                if camera is not None:
                    keys.add(_DetectorKey.of(camera))
        return keys

    def _apply_running(
        self, diff: ConfigDiff, cameras: dict[str, CameraConfig], touched: set[_DetectorKey]
    ) -> None:
        self._stop_named([_loop_group(key) for key in sorted(touched)])
        for change in diff.of(Change.REMOVED):
            self._stop_camera(change.camera_id)
        for change in diff.of(Change.CHANGED):
            camera = cameras[change.camera_id]
            self._workers[camera.id].reconfigure(camera)
            if change.reconnect:
                self._stop_named([f"reader:{camera.id}"])
                self._start_reader(camera)
        for change in diff.of(Change.ADDED):
            camera = cameras[change.camera_id]
            self._start_worker(camera)
            self._slots[camera.id] = LatestFrameSlot(camera.id)
            self._start_reader(camera)
        in_use = {_DetectorKey.of(c) for c in self._cameras}
        for key in sorted(touched):
            if key in in_use:
                self._start_detector_loop(key)
            else:
                self._detectors.pop(key, None)

    def _stop_camera(self, camera_id: str) -> None:
        self._stop_named([f"reader:{camera_id}"])
        self._stop_named([f"worker:{camera_id}"])  # the worker ends its open alerts as it stops
        for table in (self._readers, self._workers, self._slots):
            table.pop(camera_id, None)

    def _refresh_statuses(self, config: IocConfig) -> None:
        with self._lock:
            old = self._statuses
            self._statuses = {}
            for camera in config.cameras:
                kept = old.get(camera.id)
                fresh = _initial_status(camera)
                usable = kept is not None and camera.enabled and kept.reason != "disabled"
                self._statuses[camera.id] = kept if usable and kept is not None else fresh

    # -- status -----------------------------------------------------------------------------

    def _on_status(self, status: CameraStatus) -> None:
        with self._lock:
            previous = self._statuses.get(status.camera_id)
            self._statuses[status.camera_id] = status
        if previous is not None and previous.state == status.state and previous.reason == status.reason:
            return  # the reader has logged the change already
        try:
            self._publish(status)
        except Exception:
            logger.exception("camera %s: publishing status failed", status.camera_id)


def _loop_group(key: _DetectorKey) -> str:
    return f"detect:{key.model}:{key.iou:g}"


def _initial_status(camera: CameraConfig) -> CameraStatus:
    now = datetime.now(UTC)
    if not camera.enabled:
        disabled = Reason.of(ReasonCode.DISABLED).status_fields()
        return CameraStatus(camera_id=camera.id, state=CameraState.OFFLINE, changed_at=now, **disabled)
    return CameraStatus(camera_id=camera.id, state=CameraState.CONNECTING, changed_at=now)


Supervisor = Engine
"""The name the architecture notes use for the same thing."""
