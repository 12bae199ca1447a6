"""Calibration footage: which sources, how frames are sampled and split, unreachable ones skipped."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from ioc.detect.calibration import (
    camera_sources,
    collect,
    default_sources,
    sample_source,
    shrink,
    split_frames,
)
from ioc.detect.openvino_runtime import batch_tensor
from ioc.pipeline.footage import write_video


def _video(path: Path, frames: int, size: tuple[int, int] = (128, 96)) -> Path:
    """A video whose frame i is filled with grey level 2*i (so samples can be told apart)."""
    w, h = size
    write_video(path, [np.full((h, w, 3), 2 * i, dtype=np.uint8) for i in range(frames)], fps=10)
    return path


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, (0, 0)), (1, (1, 0)), (2, (1, 1)), (4, (3, 1)), (5, (3, 2)), (40, (30, 10))],
)
def test_split_holds_out_the_last_quarter(n: int, expected: tuple[int, int]) -> None:
    assert split_frames([np.zeros((1, 1, 3), np.uint8)] * n) == expected


def test_default_sources_demo_then_vtest_then_cameras_each_file_once(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    for name in ("street.mp4", "gate.mp4"):
        (demo / name).touch()
    vtest = tmp_path / "vtest.avi"
    vtest.touch()
    cams = [str(demo / "street.mp4"), f"file://{demo / 'gate.mp4'}", "rtsp://cam/1", "rtsp://cam/1"]
    assert default_sources(demo, cams, vtest=vtest) == [
        str(demo / "gate.mp4"), str(demo / "street.mp4"), str(vtest), "rtsp://cam/1",
    ]  # fmt: skip
    assert default_sources(demo, [], vtest=tmp_path / "absent.avi") == [
        str(demo / "gate.mp4"), str(demo / "street.mp4"),
    ]  # fmt: skip


def test_file_frames_are_spread_over_the_whole_file(tmp_path: Path) -> None:
    video = _video(tmp_path / "v.mp4", 40)
    frames = sample_source(str(video), 4, imgsz=320)
    levels = [int(np.median(f)) for f in frames]
    assert len(frames) == 4
    assert levels == pytest.approx([0, 20, 40, 60], abs=3)  # frames 0, 10, 20, 30 (lossy codec)


def test_frames_are_shrunk_exactly_as_the_runtime_letterbox_resizes() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (576, 768, 3), dtype=np.uint8)
    small = shrink(image, 320)
    assert small.shape == (240, 320, 3)
    assert np.array_equal(batch_tensor([small], 320)[0], batch_tensor([image], 320)[0])
    tiny = image[:100, :100]
    assert shrink(tiny, 320) is tiny  # never enlarged here: the runtime does that itself


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_sources_are_skipped_with_a_line(tmp_path: Path) -> None:
    video = _video(tmp_path / "ok.mp4", 12)
    said: list[str] = []
    sources = [str(tmp_path / "missing.mp4"), f"rtsp://user:secret@127.0.0.1:{_closed_port()}/x", str(video)]
    split = collect(sources, imgsz=320, per_source=4, say=said.append)
    assert (len(split.calibration), len(split.held_out)) == (3, 1)
    assert [s.label for s in split.sources] == [str(video)]
    assert said[0] == f"skipping {tmp_path / 'missing.mp4'}: file not found"
    assert said[1].startswith("skipping rtsp://user:***@127.0.0.1:") and "secret" not in said[1]
    assert said[2] == f"{video}: 3 calibration + 1 held-out frames"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cameras:\n  - id: a\n    source: rtsp://cam/a\n  - id: b\n    source: x.mp4\n",
            ["rtsp://cam/a", "x.mp4"],
        ),
        ("cameras: [", []),
    ],
)
def test_camera_sources_from_the_config(tmp_path: Path, text: str, expected: list[str]) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(text, encoding="utf-8")
    said: list[str] = []
    assert camera_sources(config, said.append) == expected
    assert bool(said) == (not expected)
    if said:
        assert said[0].startswith(f"skipping cameras of {config}: config does not load")
