"""Frames from real footage for INT8 calibration, and held-out frames to check the result on.

Sources, in this order, each used once (files compared by resolved path):

1. the demo footage, ``<data dir>/demo/*.mp4`` (written by ``ioc demo prepare``);
2. Debian's ``vtest.avi`` (``opencv-doc``: PETS 2009 pedestrians), when installed;
3. every camera ``source:`` in the config (``cameras.yaml``): files and live streams (RTSP, HTTP).
   An unreachable camera, or a config that does not load, is skipped with one line saying so.

From each source ``per_source`` frames are taken: evenly spread over a file, or one every
``LIVE_STRIDE`` decoded frames of a live stream (giving up after ``LIVE_DEADLINE_S``). The first
three quarters of each source's frames (in time) calibrate; the last quarter is held out for the
accuracy check, so the check never sees a calibration frame. Frames are shrunk to fit ``imgsz``
exactly as the runtime's letterbox resizes them (``openvino_runtime.fit_size``), which keeps
memory small and changes nothing the model sees.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from ioc.detect.openvino_runtime import fit_size
from ioc.ingest.sources import (
    SourceError,
    SourceKind,
    file_path,
    iter_file_frames,
    probe_file,
    read_video_frames,
    redact_source,
    source_kind,
)

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Say = Callable[[str], None]

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
HELD_OUT_FRACTION = 0.25
LIVE_STRIDE = 10
LIVE_DEADLINE_S = 30.0
DEFAULT_PER_SOURCE = 40


@dataclass(frozen=True, slots=True)
class SourceSample:
    """What one source contributed: its label (password hidden) and frame counts."""

    label: str
    calibration: int
    held_out: int


@dataclass(slots=True)
class FrameSplit:
    """Calibration frames, held-out frames, and where they came from."""

    calibration: list[Image] = field(default_factory=list)
    held_out: list[Image] = field(default_factory=list)
    sources: list[SourceSample] = field(default_factory=list)


def default_sources(demo_dir: Path, camera_sources: Sequence[str], vtest: Path = VTEST) -> list[str]:
    """Demo footage, vtest.avi, then the cameras' sources; each file once."""
    candidates = [str(p) for p in sorted(demo_dir.glob("*.mp4"))]
    if vtest.is_file():
        candidates.append(str(vtest))
    candidates += list(camera_sources)
    seen: set[str] = set()
    out: list[str] = []
    for source in candidates:
        key = source
        if source_kind(source) is SourceKind.FILE:
            key = str(file_path(source).resolve())
        if key not in seen:
            seen.add(key)
            out.append(source)
    return out


def camera_sources(config_path: Path, say: Say) -> list[str]:
    """Every camera ``source:`` of the config; none (and a line saying why) when it does not load."""
    from ioc.config.loader import ConfigError, load_config

    try:
        config = load_config(config_path)
    except (ConfigError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        say(f"skipping cameras of {config_path}: config does not load ({first})")
        return []
    return [camera.source for camera in config.cameras]


def split_frames(frames: Sequence[Image], held_out_fraction: float = HELD_OUT_FRACTION) -> tuple[int, int]:
    """(calibration count, held-out count): the last ``held_out_fraction`` (at least one) is held out."""
    n = len(frames)
    if n < 2:
        return n, 0
    held = min(n - 1, max(1, math.ceil(n * held_out_fraction)))
    return n - held, held


def collect(sources: Sequence[str], imgsz: int, per_source: int, say: Say) -> FrameSplit:
    """Sample every source; unreachable ones are skipped with a line through ``say``."""
    split = FrameSplit()
    for source in sources:
        label = redact_source(source)
        try:
            frames = sample_source(source, per_source, imgsz)
        except SourceError as exc:
            say(f"skipping {label}: {exc.reason}")
            continue
        if not frames:
            say(f"skipping {label}: no frames decoded")
            continue
        n_cal, n_held = split_frames(frames)
        split.calibration += frames[:n_cal]
        split.held_out += frames[n_cal:]
        split.sources.append(SourceSample(label, n_cal, n_held))
        say(f"{label}: {n_cal} calibration + {n_held} held-out frames")
    return split


def sample_source(source: str, count: int, imgsz: int) -> list[Image]:
    """``count`` frames of ``source``, each shrunk to fit ``imgsz``; raises ``SourceError``."""
    if source_kind(source) is SourceKind.FILE:
        images = _file_sample(file_path(source), count)
    else:
        images = _live_sample(source, count)
    return [shrink(image, imgsz) for image in images]


def _file_sample(path: Path, count: int) -> Iterator[Image]:
    total = probe_file(path).frame_count
    stride = max(1, total // max(count, 1))
    taken = 0
    for frame in iter_file_frames(path):
        if taken >= count:
            return
        if frame.index % stride == 0:
            taken += 1
            yield frame.image


def _live_sample(source: str, count: int) -> Iterator[Image]:
    deadline = time.monotonic() + LIVE_DEADLINE_S
    taken = 0
    frames = read_video_frames(source, loop=False, open_timeout_s=5.0, read_timeout_s=5.0)
    for index, frame in enumerate(frames):
        if taken >= count or time.monotonic() > deadline:
            return
        if index % LIVE_STRIDE == 0:
            taken += 1
            yield np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def shrink(image: Image, imgsz: int) -> Image:
    """``image`` resized as the runtime's letterbox would resize it for ``imgsz`` (never enlarged)."""
    h, w = image.shape[:2]
    new_w, new_h = fit_size(w, h, imgsz)
    if new_w >= w:
        return image
    return np.asarray(cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
