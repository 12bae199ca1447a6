"""In-process values that flow through the pipeline (never across a process boundary).

Coordinates inside the pipeline are *normalised* 0..1 (x to the right, y downward), the same
convention as ``cameras.yaml``; pixel coordinates appear only when drawing on an image.
Time is seconds taken from frame timestamps, never frame counts.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.object_]
Image = npt.NDArray[np.uint8]
"""A BGR picture, HxWx3 uint8."""
GreyImage = npt.NDArray[np.uint8]
"""A grey picture, HxW uint8."""


class Picture(Protocol):
    """A decoded picture kept in its native pixel format (a PyAV ``VideoFrame`` in YUV, say).

    ``bgr`` and ``luma`` convert on every call; ``Frame`` calls each at most once and caches it.
    """

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def bgr(self) -> Image: ...

    def luma(self, step: int = 1) -> GreyImage: ...


class Frame:
    """One decoded picture from a camera.

    ``timestamp`` is the stream time in seconds (monotonic within one source: the presentation
    time for files and replays, the capture clock for live cameras). ``wall_time`` is the Unix
    time the frame stands for (capture time live; start time + stream time in a replay).

    Built from a BGR array (``Frame(camera_id, image, timestamp, wall_time, index)``), or by a
    reader from a decoded picture (``Frame.lazy``), which converts nothing until asked:
    ``image`` (BGR, HxWx3 uint8) and ``luma`` (grey, HxW uint8) are each computed on first
    access and cached, once even when two threads ask at the same moment. For a YUV picture
    ``luma`` is its Y plane, with no colour conversion; for a BGR frame it is computed from the
    BGR. ``width`` and ``height`` never convert. A frame is read-only; the arrays it hands
    out are shared, so never draw on them (copy first).
    """

    __slots__ = ("_image", "_lock", "_luma", "_picture", "camera_id", "index", "timestamp", "wall_time")

    camera_id: str
    timestamp: float
    wall_time: float
    index: int
    _image: Image | None
    _luma: GreyImage | None
    _picture: Picture | None
    _lock: threading.Lock

    def __init__(self, camera_id: str, image: Image, timestamp: float, wall_time: float, index: int) -> None:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"camera {camera_id!r}: a frame image must be BGR HxWx3, got shape {image.shape}"
            )
        self._fill(camera_id, timestamp, wall_time, index, image=image, picture=None)

    @classmethod
    def lazy(
        cls, camera_id: str, picture: Picture, *, timestamp: float, wall_time: float, index: int
    ) -> Frame:
        """A frame that converts ``picture`` only when ``image`` or ``luma`` is first read."""
        frame = cls.__new__(cls)
        frame._fill(camera_id, timestamp, wall_time, index, image=None, picture=picture)
        return frame

    def _fill(
        self,
        camera_id: str,
        timestamp: float,
        wall_time: float,
        index: int,
        *,
        image: Image | None,
        picture: Picture | None,
    ) -> None:
        values: dict[str, object] = {
            "camera_id": camera_id,
            "timestamp": timestamp,
            "wall_time": wall_time,
            "index": index,
            "_image": image,
            "_luma": None,
            "_picture": picture,
            "_lock": threading.Lock(),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Frame is read-only: cannot set {name!r}")

    def __repr__(self) -> str:
        return (
            f"Frame(camera_id={self.camera_id!r}, size={self.width}x{self.height}, "
            f"timestamp={self.timestamp!r}, wall_time={self.wall_time!r}, index={self.index!r})"
        )

    @property
    def width(self) -> int:
        picture = self._picture
        return picture.width if picture is not None else int(self._bgr().shape[1])

    @property
    def height(self) -> int:
        picture = self._picture
        return picture.height if picture is not None else int(self._bgr().shape[0])

    @property
    def converted(self) -> bool:
        """Whether the BGR image exists yet (always, for a frame built from an array)."""
        return self._image is not None

    @property
    def image(self) -> Image:
        """The picture as BGR, HxWx3 uint8 (converted on first access, then cached)."""
        return self._bgr()

    @property
    def luma(self) -> GreyImage:
        """The picture as grey, HxW uint8: the Y plane of a YUV picture, else from the BGR."""
        luma = self._luma
        if luma is not None:
            return luma
        with self._lock:
            if self._luma is None:
                object.__setattr__(self, "_luma", self._grey())
                self._release_picture()
            return self._luma  # type: ignore[return-value]

    def luma_sampled(self, step: int) -> GreyImage:
        """Every ``step``-th pixel of every ``step``-th row of ``luma``, without converting the whole
        picture (not cached: the motion gate's cheap look at a frame)."""
        if step <= 1:
            return self.luma
        luma = self._luma
        if luma is not None:
            return luma[::step, ::step]
        picture = self._picture
        if picture is not None and self._image is None:
            return picture.luma(step)
        bgr = np.ascontiguousarray(self._bgr()[::step, ::step])
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)

    def _grey(self) -> GreyImage:
        picture = self._picture
        if picture is not None:
            return picture.luma()
        return np.asarray(cv2.cvtColor(self._bgr(), cv2.COLOR_BGR2GRAY), dtype=np.uint8)

    def _bgr(self) -> Image:
        image = self._image
        if image is not None:
            return image
        with self._lock:
            if self._image is None:
                picture = self._picture
                assert picture is not None  # a frame has an image or a picture
                object.__setattr__(self, "_image", picture.bgr())
                self._release_picture()
            return self._image  # type: ignore[return-value]

    def _release_picture(self) -> None:
        """Once both conversions are cached the decoded picture is not needed: free its buffers."""
        if self._image is not None and self._luma is not None:
            object.__setattr__(self, "_picture", None)


def _empty_f(n: int = 0, cols: int = 0) -> FloatArray:
    return np.zeros((n, cols) if cols else (n,), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Detections:
    """Columnar detections: row i of every column describes object i.

    ``xyxy`` is normalised (0..1). ``tracker_id`` is -1 until a tracker assigns an id.
    Filter with a boolean mask: ``dets[dets.confidence > 0.5]``.
    """

    xyxy: FloatArray = field(default_factory=lambda: _empty_f(0, 4))
    confidence: FloatArray = field(default_factory=_empty_f)
    class_id: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    class_name: StrArray = field(default_factory=lambda: np.zeros(0, dtype=object))
    tracker_id: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.shape != (n, 4):
            raise ValueError(f"xyxy must have shape (N, 4), got {self.xyxy.shape}")
        for name in ("confidence", "class_id", "class_name", "tracker_id"):
            col = getattr(self, name)
            if col.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {col.shape}")

    @classmethod
    def empty(cls) -> Detections:
        return cls()

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | slice) -> Detections:
        return Detections(
            xyxy=self.xyxy[mask],
            confidence=self.confidence[mask],
            class_id=self.class_id[mask],
            class_name=self.class_name[mask],
            tracker_id=self.tracker_id[mask],
        )

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """One value holding the rows of every part, in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]).astype(np.float32),
            confidence=np.concatenate([p.confidence for p in parts]).astype(np.float32),
            class_id=np.concatenate([p.class_id for p in parts]).astype(np.int64),
            class_name=np.concatenate([p.class_name for p in parts]),
            tracker_id=np.concatenate([p.tracker_id for p in parts]).astype(np.int64),
        )

    @property
    def anchor(self) -> FloatArray:
        """Bottom-centre of each box (where an object touches the ground), shape (N, 2)."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2.0
        y = self.xyxy[:, 3]
        return np.stack([x, y], axis=1).astype(np.float32)


class HitKind(enum.StrEnum):
    """How a rule hit drives the alert lifecycle.

    ``state``: the condition holds on this frame (intrusion, loitering); consecutive hits on the
    same (rule, track) extend one alert, which ends when hits stop. ``event``: an instant
    (a line crossing); each one is its own alert.
    """

    STATE = "state"
    EVENT = "event"


class Direction(enum.StrEnum):
    """Which way a track crossed a line (see ``ioc.rules.line_crossing`` for the convention).

    A ``StrEnum``: on the wire it is the plain string ``"in"`` / ``"out"``.
    """

    IN = "in"
    OUT = "out"


ZONE_TRACK = -1
"""``RuleHit.track_id`` of a hit about a zone as a whole (crowding, congestion), not one object."""


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule firing for one tracked object (or, with ``ZONE_TRACK``, a whole zone) on one frame."""

    rule_id: str
    rule_type: str
    kind: HitKind
    track_id: int
    object_class: str
    confidence: float
    bbox: tuple[float, float, float, float]  # normalised xyxy
    timestamp: float  # frame stream time, seconds
    zone_id: str | None = None
    line_id: str | None = None
    direction: Direction | None = None  # line crossings
    value: float | None = None  # dwell seconds, count, km/h …
    value_unit: str | None = None  # "s", "count", "km/h"
    speed_kmh: float | None = None  # ground speed of the object, when the camera is calibrated


@dataclass(frozen=True, slots=True)
class TrackHint:
    """What the detector's planner knows of one object a camera is tracking (read across threads).

    ``xyxy`` is the last box (normalised); ``last_seen`` the stream time it was last on a processed
    frame (held or detected), ``checked_at`` when the detector last really saw it. ``lost`` means
    the tracker missed it on the latest frame; ``stationary`` that it has not moved for
    ``detect.stationary_seconds``.
    """

    object_id: int
    class_name: str
    xyxy: tuple[float, float, float, float]
    stationary: bool
    lost: bool
    last_seen: float
    checked_at: float


MOVED_SHARE = 0.3
"""An object whose box lies this much in changed areas of the picture may have moved (see Coverage)."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which part of a frame the detector examined closely enough to vouch for what it did not find.

    ``regions``: normalised rectangles seen at full resolution; ``None`` for a whole-frame pass, ``()``
    for none (a frame handed on only to carry stationary objects forward). A whole frame is shrunk
    to the model input, so it vouches only for objects whose longer side is at least
    ``full_min_pixels`` pixels there: ``full_scale`` is model-input pixels per frame pixel,
    ``width``/``height`` the frame's size (a small parked car is left to the crops around it).
    Where the picture changed (``moved``, normalised boxes) nothing is vouched for by holding: an
    object whose box lies ``MOVED_SHARE`` or more in a changed area may have moved on, and is left
    to the detector.
    """

    regions: tuple[tuple[float, float, float, float], ...] | None = None
    full_scale: float = 1.0
    width: int = 1
    height: int = 1
    full_min_pixels: float = 0.0
    moved: tuple[tuple[float, ...], ...] = ()

    @classmethod
    def full(cls) -> Coverage:
        """A whole frame that vouches for every object (no size limit)."""
        return cls(None)

    @classmethod
    def nothing(cls) -> Coverage:
        return cls(())

    @property
    def is_full(self) -> bool:
        return self.regions is None

    def covers(self, box: tuple[float, float, float, float]) -> bool:
        """True when ``box`` lies wholly inside one region, is large enough for a whole frame, or
        lies mostly where the picture changed."""
        x1, y1, x2, y2 = box
        if self._in_motion(box):
            return True
        if self.regions is None:
            side = max((x2 - x1) * self.width, (y2 - y1) * self.height) * self.full_scale
            return side >= self.full_min_pixels
        eps = 1e-6
        return any(
            x1 >= rx1 - eps and y1 >= ry1 - eps and x2 <= rx2 + eps and y2 <= ry2 + eps
            for rx1, ry1, rx2, ry2 in self.regions
        )

    def _in_motion(self, box: tuple[float, float, float, float]) -> bool:
        x1, y1, x2, y2 = box
        area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
        if area <= 0.0:
            return False
        changed = sum(
            max(min(x2, mx2) - max(x1, mx1), 0.0) * max(min(y2, my2) - max(y1, my1), 0.0)
            for mx1, my1, mx2, my2 in self.moved
        )
        return changed >= MOVED_SHARE * area


@dataclass(frozen=True, slots=True)
class LiveTile:
    """A camera's live picture: the processed frame ``index`` with boxes, zones and lines drawn,
    encoded as JPEG at ``encoded_at`` (monotonic clock)."""

    index: int
    encoded_at: float
    jpeg: bytes
