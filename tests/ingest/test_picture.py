"""AvPicture: real decoded frames converted on request; the grey image comes from the Y plane."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.video.frame import VideoFrame

from ioc import metrics
from ioc.ingest import AvPicture
from ioc.types import Frame, Image


def _natural(h: int = 120, w: int = 160, seed: int = 5) -> Image:
    """A smooth, mid-range colour image (no colour the YUV→BGR conversion has to clip)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 216, (h // 8, w // 8, 3), dtype=np.uint8)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _decoded(path: Path, codec: str, pix_fmt: str, image: Image) -> VideoFrame:
    """``image`` encoded with ``codec`` and decoded again by PyAV (what a reader gets)."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=Fraction(5, 1))
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], pix_fmt
        if codec == "libx264":
            stream.options = {"crf": "10", "preset": "ultrafast"}
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with av.open(str(path)) as container:
        return next(container.decode(video=0))


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "suffix", "decoded_format"),
    [
        ("libx264", "yuv420p", ".mp4", "yuv420p"),  # limited range: Y is 16..235
        ("mjpeg", "yuvj420p", ".avi", "yuvj420p"),  # full range (an MJPEG camera)
        ("mjpeg", "yuvj422p", ".avi", "yuvj422p"),
    ],
)
def test_luma_is_the_grey_of_the_bgr_within_rounding(
    tmp_path: Path, codec: str, pix_fmt: str, suffix: str, decoded_format: str
) -> None:
    decoded = _decoded(tmp_path / f"clip{suffix}", codec, pix_fmt, _natural())
    assert decoded.format.name == decoded_format
    picture = AvPicture(decoded, "pic-cam")
    luma = picture.luma()
    grey = cv2.cvtColor(picture.bgr(), cv2.COLOR_BGR2GRAY)
    assert luma.shape == grey.shape == (120, 160) and luma.dtype == np.uint8
    diff = luma.astype(np.int16) - grey.astype(np.int16)
    assert abs(float(diff.mean())) < 2.0  # libswscale's fast YUV→BGR is about a level darker
    assert np.percentile(np.abs(diff), 99.9) <= 4


def test_a_format_without_a_luma_plane_goes_through_swscale() -> None:
    image = _natural()
    decoded = VideoFrame.from_ndarray(image, format="bgr24")
    luma = AvPicture(decoded, "pic-bgr").luma()
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert np.percentile(np.abs(luma.astype(np.int16) - grey.astype(np.int16)), 99.9) <= 4


def test_conversions_are_counted_per_camera_and_format(tmp_path: Path) -> None:
    decoded = _decoded(tmp_path / "c.mp4", "libx264", "yuv420p", _natural())

    def count(fmt: str) -> float:
        return metrics.FRAMES_CONVERTED.labels(camera="pic-count", format=fmt)._value.get()

    before = count("bgr"), count("luma")
    frame = Frame.lazy("pic-count", AvPicture(decoded, "pic-count"), timestamp=0.0, wall_time=0.0, index=0)
    assert (frame.width, frame.height) == (160, 120)
    assert (count("bgr"), count("luma")) == before
    for _ in range(3):
        assert frame.image.shape == (120, 160, 3)
        assert frame.luma.shape == (120, 160)
    assert (count("bgr") - before[0], count("luma") - before[1]) == (1, 1)


@pytest.mark.parametrize("step", [1, 2, 4])
def test_a_sampled_grey_picture_is_every_step_th_pixel_of_the_full_one(tmp_path: Path, step: int) -> None:
    video = _decoded(tmp_path / "s.mp4", "libx264", "yuv420p", _natural(96, 128))
    lazy = Frame.lazy("cam", AvPicture(video, "cam"), timestamp=0.0, wall_time=0.0, index=0)
    sampled = lazy.luma_sampled(step)  # read before the full grey picture exists
    np.testing.assert_array_equal(sampled, lazy.luma[::step, ::step])
    bgr = Frame("cam", _natural(96, 128), timestamp=0.0, wall_time=0.0, index=0)
    np.testing.assert_array_equal(bgr.luma_sampled(step), bgr.luma[::step, ::step])
