"""Frame: built from a BGR array (as tests and replays do) or lazily from a decoded picture."""

from __future__ import annotations

import re
import threading
import time

import cv2
import numpy as np
import pytest

from ioc.types import Frame, GreyImage, Image


class CountingPicture:
    """A ``Picture`` (the product's interface) over a BGR array that counts its conversions."""

    def __init__(self, bgr: Image, delay_s: float = 0.0) -> None:
        self._bgr = bgr
        self._delay_s = delay_s
        self.calls = {"bgr": 0, "luma": 0}

    @property
    def width(self) -> int:
        return int(self._bgr.shape[1])

    @property
    def height(self) -> int:
        return int(self._bgr.shape[0])

    def bgr(self) -> Image:
        self.calls["bgr"] += 1
        time.sleep(self._delay_s)  # widens the window in which two threads could both convert
        return self._bgr.copy()

    def luma(self) -> GreyImage:
        self.calls["luma"] += 1
        time.sleep(self._delay_s)
        return np.asarray(cv2.cvtColor(self._bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _scene(h: int = 48, w: int = 64) -> Image:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "build",
    [
        lambda img: Frame("cam", img, 1.5, 100.0, 7),
        lambda img: Frame(camera_id="cam", image=img, timestamp=1.5, wall_time=100.0, index=7),
        lambda img: Frame.lazy("cam", CountingPicture(img), timestamp=1.5, wall_time=100.0, index=7),
    ],
    ids=["positional", "keywords", "lazy"],
)
def test_every_form_gives_the_same_frame(build: object) -> None:
    image = _scene()
    frame = build(image)  # type: ignore[operator]
    assert (frame.camera_id, frame.timestamp, frame.wall_time, frame.index) == ("cam", 1.5, 100.0, 7)
    assert (frame.width, frame.height) == (64, 48)
    assert np.array_equal(frame.image, image)
    assert np.array_equal(frame.luma, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    assert "cam" in repr(frame) and "64x48" in repr(frame)


def test_array_frame_keeps_the_callers_array() -> None:
    image = _scene()
    frame = Frame("cam", image, 0.0, 0.0, 0)
    assert frame.image is image
    assert frame.converted
    assert frame.luma is frame.luma  # computed once, cached


def test_lazy_frame_converts_nothing_until_asked() -> None:
    picture = CountingPicture(_scene())
    frame = Frame.lazy("cam", picture, timestamp=0.0, wall_time=0.0, index=0)
    assert (frame.width, frame.height, frame.converted) == (64, 48, False)
    assert picture.calls == {"bgr": 0, "luma": 0}
    grey = frame.luma
    assert picture.calls == {"bgr": 0, "luma": 1}  # the grey image needs no BGR
    assert frame.luma is grey
    image = frame.image
    assert frame.image is image and frame.converted
    assert picture.calls == {"bgr": 1, "luma": 1}
    assert (frame.width, frame.height) == (64, 48)  # still known once the picture is let go


@pytest.mark.parametrize("attribute", ["image", "luma"])
def test_threads_asking_at_once_convert_once(attribute: str) -> None:
    picture = CountingPicture(_scene(), delay_s=0.05)
    frame = Frame.lazy("cam", picture, timestamp=0.0, wall_time=0.0, index=0)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(getattr(frame, attribute))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert picture.calls["bgr" if attribute == "image" else "luma"] == 1
    assert all(s is seen[0] for s in seen)


@pytest.mark.parametrize(
    ("attribute", "value"), [("camera_id", "other"), ("timestamp", 2.0), ("image", None), ("anything", 1)]
)
def test_frame_is_read_only(attribute: str, value: object) -> None:
    frame = Frame("cam", _scene(), 0.0, 0.0, 0)
    with pytest.raises(AttributeError, match="read-only"):
        setattr(frame, attribute, value)


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 4), (48, 64, 1)])
def test_an_array_that_is_not_bgr_is_refused_naming_the_camera(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"camera 'gate-1'.*BGR HxWx3.*" + re.escape(str(shape))):
        Frame("gate-1", np.zeros(shape, dtype=np.uint8), 0.0, 0.0, 0)
