"""Uploads and the stage/launch/finish pipeline, on the CPU device (the CUDA branch needs a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ioc.detect.cuda_upload import Uploader, _fill, _same_view, pipelined

RNG = np.random.default_rng(5)


def test_upload_keeps_input_order_across_mixed_sizes() -> None:
    shapes = [(720, 1280, 3), (360, 640, 3), (720, 1280, 3), (5, 7, 3)]
    images = [RNG.integers(0, 256, s, dtype=np.uint8) for s in shapes]
    uploader = Uploader(torch.device("cpu"))
    uploaded = uploader.upload(images)
    frames = uploader.ready(uploaded)
    assert len(frames) == 4 and uploaded.done is None
    for frame, image in zip(frames, images, strict=True):
        assert frame.dtype == torch.uint8 and np.array_equal(frame.numpy(), image)
    assert uploaded.block.numel() == sum(i.nbytes for i in images)  # one block for the whole batch


def test_upload_takes_views_and_does_not_alias_its_input() -> None:
    base = RNG.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    view = base[10:60, 20:120]  # not contiguous
    frames = Uploader(torch.device("cpu")).ready(Uploader(torch.device("cpu")).upload([view]))
    assert np.array_equal(frames[0].numpy(), view)
    base[:] = 0
    assert frames[0].numpy().any()  # a copy, so a reader overwriting its frame changes nothing


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([], "upload needs at least one frame"),
        (
            [np.zeros((4, 4), np.uint8)],
            r"images\[0\]: expected a uint8 \(H, W, 3\) BGR frame, got uint8 \(4, 4\)",
        ),
        (
            [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.float32)],
            r"images\[1\]: expected a uint8 \(H, W, 3\) BGR frame, got float32",
        ),
    ],
)
def test_bad_frames_are_refused(images: list[np.ndarray], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Uploader(torch.device("cpu")).upload(images)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], []),
        (["a"], ["stage a", "launch a", "finish a"]),
        (  # the next item is staged after this one is launched and before it is finished
            ["a", "b", "c"],
            [
                "stage a",
                "launch a",
                "stage b",
                "finish a",
                "launch b",
                "stage c",
                "finish b",
                "launch c",
                "finish c",
            ],
        ),
    ],
)
def test_pipelined_overlaps_staging_with_compute(items: list[str], expected: list[str]) -> None:
    log: list[str] = []

    def step(name: str) -> object:
        def run(x: str) -> str:
            log.append(f"{name} {x}")
            return x

        return run

    results = list(pipelined(items, step("stage"), step("launch"), step("finish")))  # type: ignore[arg-type]
    assert results == items and log == expected


def test_buffers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="buffers must be at least 1, got 0"):
        Uploader(torch.device("cpu"), buffers=0)


def test_device_views_sit_where_the_host_views_sit() -> None:
    """The CUDA branch maps each frame's place in the pinned buffer onto the copied block."""
    images = [RNG.integers(0, 256, s, dtype=np.uint8) for s in [(4, 6, 3), (2, 2, 3), (4, 6, 3)]]
    host = torch.empty(sum(i.nbytes for i in images) + 16, dtype=torch.uint8)
    used = host[: sum(i.nbytes for i in images)]
    host_views = _fill(used, images)
    block = used.clone()  # what the non-blocking copy produces on the device
    frames = [_same_view(block, v, host.data_ptr()) for v in host_views]
    assert all(np.array_equal(f.numpy(), i) for f, i in zip(frames, images, strict=True))
    assert frames[1].data_ptr() - block.data_ptr() == 2 * 4 * 6 * 3  # grouped by shape: both 4×6 first
