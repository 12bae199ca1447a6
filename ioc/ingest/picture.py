"""A decoded PyAV frame kept as the decoder made it (YUV), converted only when someone asks.

A reader decodes every frame a camera sends (25/s) but the pipeline looks at a few of them
(``detect.fps``, 5/s by default): converting each to BGR would cost more CPU than decoding it.
``AvPicture`` is the ``ioc.types.Picture`` behind ``Frame.lazy``:

- ``bgr()`` converts with libswscale (BT.601 unless the stream says otherwise), as
  ``VideoFrame.to_ndarray(format="bgr24")`` always did;
- ``luma()`` copies the Y plane of a planar or semi-planar YUV frame (yuv420p, nv12, yuvj422p…)
  and, for limited-range video (Y in 16..235, the H.264 default), stretches it to 0..255 with a
  lookup table, so it equals ``cv2.cvtColor(bgr, COLOR_BGR2GRAY)`` within rounding (colours the
  BGR conversion clips aside). Other pixel formats go through libswscale to grey.

Each conversion is counted in ``ioc_frames_converted_total{camera, format}``.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
from av.video.frame import VideoFrame

from ioc import metrics
from ioc.types import GreyImage, Image

FULL_RANGE = 2
"""``AVCOL_RANGE_JPEG``: Y already spans 0..255."""

_Y_FIRST = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p"}
    | {"yuv411p", "yuv410p", "nv12", "nv21", "nv16", "nv24", "gray"}
)
"""8-bit pixel formats whose first plane is the luma, one byte per pixel."""

_EXPAND: GreyImage = np.clip(np.round((np.arange(256) - 16) * 255.0 / 219.0), 0, 255).astype(np.uint8)
"""Limited-range Y (16..235) to full range (0..255)."""


class AvPicture:
    """One decoded ``VideoFrame`` of ``camera_id``; satisfies ``ioc.types.Picture``."""

    __slots__ = ("_bgr_count", "_frame", "_luma_count")

    def __init__(self, frame: VideoFrame, camera_id: str) -> None:
        self._frame = frame
        self._bgr_count = metrics.FRAMES_CONVERTED.labels(camera=camera_id, format="bgr")
        self._luma_count = metrics.FRAMES_CONVERTED.labels(camera=camera_id, format="luma")

    @property
    def video_frame(self) -> VideoFrame:
        return self._frame

    @property
    def width(self) -> int:
        return int(self._frame.width)

    @property
    def height(self) -> int:
        return int(self._frame.height)

    def bgr(self) -> Image:
        self._bgr_count.inc()
        return cast(Image, self._frame.to_ndarray(format="bgr24"))

    def luma(self, step: int = 1) -> GreyImage:
        """The Y plane, full range; every ``step``-th pixel of every ``step``-th row (a cheap
        small grey picture: only those pixels are read and range-expanded)."""
        self._luma_count.inc()
        frame = self._frame
        if frame.format.name not in _Y_FIRST:
            return cast(GreyImage, frame.to_ndarray(format="gray"))[::step, ::step].copy()
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        y: GreyImage = np.ascontiguousarray(rows[: frame.height : step, : frame.width : step])
        if _full_range(frame):
            return y
        return np.asarray(cv2.LUT(y, _EXPAND), dtype=np.uint8)


def _full_range(frame: VideoFrame) -> bool:
    name = str(frame.format.name)
    return bool(frame.color_range == FULL_RANGE or name.startswith("yuvj") or name == "gray")
