"""Device-side letterbox and NMS, on the CPU device, against Ultralytics' own implementations."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import torch
import ultralytics
from ultralytics.data.augment import LetterBox
from ultralytics.utils.nms import non_max_suppression
from ultralytics.utils.ops import scale_boxes

from ioc.detect.torch_batch import (
    MAX_DETECTIONS,
    Crop,
    Placed,
    cut,
    cut_host,
    letterbox,
    plan,
    select,
    stride_size,
    to_host,
)

RNG = np.random.default_rng(7)
BUS = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
assert BUS is not None


IMAGES: dict[str, npt.NDArray[np.uint8]] = {
    "bus": BUS,
    "bus-1280x720": cv2.resize(BUS, (1280, 720)),
    "noise-333x500": RNG.integers(0, 256, (333, 500, 3), dtype=np.uint8),
    "thin-3x900": RNG.integers(0, 256, (3, 900, 3), dtype=np.uint8),
    "square-640": RNG.integers(0, 256, (640, 640, 3), dtype=np.uint8),
}


def _image(kind: str) -> npt.NDArray[np.uint8]:
    return IMAGES[kind]


@pytest.mark.parametrize("imgsz", [320, 640, 300])
@pytest.mark.parametrize("kind", ["bus", "bus-1280x720", "noise-333x500", "thin-3x900", "square-640"])
def test_letterbox_matches_ultralytics(kind: str, imgsz: int) -> None:
    image = _image(kind)
    size = stride_size(imgsz)  # Ultralytics rounds imgsz up to the stride before its LetterBox
    theirs = LetterBox((size, size), auto=True, stride=32)(image=image)
    expected = torch.from_numpy(np.ascontiguousarray(theirs[..., ::-1])).permute(2, 0, 1).float() / 255.0
    ours, _ = letterbox([torch.from_numpy(image)], imgsz, torch.float32)
    assert ours.shape == (1, *expected.shape)
    diff = (ours[0] - expected).abs() * 255.0
    assert float(diff.max()) <= 1.0 and float(diff.mean()) <= 0.3  # OpenCV rounds to uint8; we stay float


def test_same_size_batch_is_the_single_image_letterbox_stacked() -> None:
    a, b = _image("bus-1280x720"), np.ascontiguousarray(_image("bus-1280x720")[:, ::-1])
    batch, placed = letterbox([torch.from_numpy(a), torch.from_numpy(b)], 640, torch.float32)
    single, _ = letterbox([torch.from_numpy(b)], 640, torch.float32)
    assert batch.shape == (2, 3, 384, 640) and torch.equal(batch[1], single[0])
    assert placed[0] == Placed(1280, 720, 0.5, 640, 360, 0, 12)


@pytest.mark.parametrize(
    ("sizes", "imgsz", "canvas", "placed"),
    [
        ([(720, 1280)], 640, (384, 640), [Placed(1280, 720, 0.5, 640, 360, 0, 12)]),
        ([(1080, 1920)], 320, (192, 320), [Placed(1920, 1080, 1 / 6, 320, 180, 0, 6)]),
        ([(100, 50)], 320, (320, 160), [Placed(50, 100, 3.2, 160, 320, 0, 0)]),
        (  # mixed sizes share the larger canvas, each centred on it
            [(720, 1280), (640, 480)],
            320,
            (320, 320),
            [Placed(1280, 720, 0.25, 320, 180, 0, 70), Placed(480, 640, 0.5, 240, 320, 40, 0)],
        ),
    ],
)
def test_plan(
    sizes: list[tuple[int, int]], imgsz: int, canvas: tuple[int, int], placed: list[Placed]
) -> None:
    assert plan(sizes, imgsz) == (canvas, placed)


def test_mixed_batch_pads_with_grey_around_each_input() -> None:
    black = np.zeros((720, 1280, 3), dtype=np.uint8)
    white = np.full((640, 480, 3), 255, dtype=np.uint8)
    batch, _ = letterbox([torch.from_numpy(black), torch.from_numpy(white)], 320, torch.float32)
    grey = 114 / 255
    assert torch.allclose(batch[0, :, :70], torch.tensor(grey)) and torch.all(batch[0, :, 70:250] == 0)
    assert torch.allclose(batch[1, :, :, :40], torch.tensor(grey)) and torch.all(batch[1, :, :, 40:280] == 1)


def test_letterbox_converts_bgr_to_rgb_in_the_requested_dtype() -> None:
    blue = np.zeros((64, 64, 3), dtype=np.uint8)
    blue[..., 0] = 255
    batch, _ = letterbox([torch.from_numpy(blue)], 64, torch.float16)
    assert batch.dtype == torch.float16
    assert torch.all(batch[0, 2] == 1) and torch.all(batch[0, :2] == 0)


def test_crops_are_views_of_the_uploaded_frames() -> None:
    frames = [torch.from_numpy(_image("bus")), torch.from_numpy(_image("square-640"))]
    crops = [Crop(1, 10, 20, 110, 70), Crop(0, 0, 0, 810, 1080)]
    views = cut(frames, crops)
    assert [tuple(v.shape) for v in views] == [(50, 100, 3), (1080, 810, 3)]
    assert views[0].data_ptr() == frames[1][20, 10].data_ptr()  # no copy
    host = cut_host([_image("bus"), _image("square-640")], crops)
    assert all(np.array_equal(v.numpy(), h) for v, h in zip(views, host, strict=True))


@pytest.mark.parametrize(
    ("crop", "message"),
    [
        (Crop(2, 0, 0, 10, 10), r"crops\[0\]: image_index 2 is not one of the 2 frames"),
        (Crop(0, 10, 0, 10, 10), r"crops\[0\]: box \(10, 0, 10, 10\) is empty or outside the 810×1080 frame"),
        (Crop(1, 0, 0, 641, 10), r"outside the 640×640 frame"),
        (Crop(0, -1, 0, 10, 10), r"outside"),
    ],
)
def test_bad_crop_is_a_clear_error(crop: Crop, message: str) -> None:
    frames = [torch.from_numpy(_image("bus")), torch.from_numpy(_image("square-640"))]
    with pytest.raises(ValueError, match=message):
        cut(frames, [crop])
    with pytest.raises(ValueError, match=message):
        cut_host([_image("bus"), _image("square-640")], [crop])


def _raw(batch: int, classes: int, anchors: int, canvas: tuple[int, int]) -> torch.Tensor:
    """A model-shaped output: boxes on the canvas (some overlapping), sparse high scores."""
    g = torch.Generator().manual_seed(3)
    h, w = canvas
    centre = torch.rand(batch, 2, anchors, generator=g) * torch.tensor([[w], [h]])
    size = 10 + torch.rand(batch, 2, anchors, generator=g) * 80
    centre[:, :, anchors // 2 :] = centre[:, :, : anchors - anchors // 2] + 3  # near-duplicates for NMS
    scores = torch.rand(batch, classes, anchors, generator=g) ** 6
    return torch.cat([centre, size, scores], dim=1)


@pytest.mark.parametrize("wanted_classes", [None, [0, 2]])
@pytest.mark.parametrize("confidence", [0.25, 0.6])
def test_nms_matches_ultralytics(wanted_classes: list[int] | None, confidence: float) -> None:
    sizes = [(720, 1280), (720, 1280), (360, 640)]
    canvas, placed = plan(sizes, 640)
    raw = _raw(len(sizes), 5, 600, canvas)
    wanted = None
    if wanted_classes is not None:
        wanted = torch.zeros(5, dtype=torch.bool)
        wanted[wanted_classes] = True
    ours = to_host(select(raw, confidence=confidence, iou=0.5, wanted=wanted), placed)
    theirs = non_max_suppression(raw, confidence, 0.5, classes=wanted_classes, max_det=MAX_DETECTIONS)
    assert len(ours) == len(theirs) == 3
    for got, want, (h, w) in zip(ours, theirs, sizes, strict=True):
        assert len(want) > 0
        boxes = scale_boxes(canvas, want[:, :4].clone(), (h, w)).numpy() / [w, h, w, h]
        assert np.array_equal(got.model_class, want[:, 5].numpy().astype(np.int64))
        assert np.allclose(got.score, want[:, 4].numpy(), atol=1e-6)
        assert np.allclose(got.xyxy, boxes, atol=1e-5)


def test_nms_caps_each_input_and_handles_empty_inputs() -> None:
    _, placed = plan([(640, 640)] * 2, 640)
    xs = torch.arange(400, dtype=torch.float32) % 20 * 32 + 16
    ys = torch.arange(400, dtype=torch.float32) // 20 * 32 + 16
    boxes = torch.stack([xs, ys, torch.full_like(xs, 20), torch.full_like(xs, 20)])  # 400 disjoint boxes
    scores = torch.stack([torch.linspace(0.9, 0.5, 400), torch.zeros(400)])
    raw = torch.stack([torch.cat([boxes, scores]), torch.cat([boxes, scores.flip(0)])])
    raw[1, 4:] = 0.0  # nothing in the second input
    first, second = to_host(select(raw, confidence=0.25, iou=0.5, wanted=None), placed)
    assert len(first.score) == MAX_DETECTIONS and np.all(np.diff(first.score) <= 0)
    assert first.xyxy.shape == (MAX_DETECTIONS, 4) and second.xyxy.shape == (0, 4)


def test_boxes_map_back_to_each_input_and_are_clipped() -> None:
    sizes = [(720, 1280), (640, 480)]
    _, placed = plan(sizes, 320)  # canvas (320, 320); first at top 70, second at left 40
    raw = torch.zeros(2, 5, 2)
    raw[0, :4, 0] = torch.tensor([160.0, 160.0, 80.0, 90.0])  # centre of the first input
    raw[0, :4, 1] = torch.tensor([5.0, 75.0, 20.0, 20.0])  # hangs over the left/top edges
    raw[1, :4, 0] = torch.tensor([160.0, 160.0, 120.0, 160.0])
    raw[:, 4, :] = torch.tensor([[0.9, 0.8], [0.7, 0.0]])
    first, second = to_host(select(raw, confidence=0.25, iou=0.5, wanted=None), placed)
    assert np.allclose(first.xyxy[0], [0.375, 0.25, 0.625, 0.75])
    assert np.allclose(first.xyxy[1], [0.0, 0.0, 15 / 320, 15 / 180])
    assert np.allclose(second.xyxy, [[0.25, 0.25, 0.75, 0.75]])
