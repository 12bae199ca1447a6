"""OpenVINO runtime pre/post-processing on synthetic tensors: letterbox geometry and decoding."""

from __future__ import annotations

import numpy as np
import pytest

from ioc.config.coco import COCO_CLASSES
from ioc.detect.openvino_runtime import (
    PAD_VALUE,
    Letterbox,
    batch_tensor,
    cpu_config,
    decode,
    inference_threads,
    usable_cpus,
)

TO_COCO = np.arange(80, dtype=np.int64)
ALL = np.ones(80, dtype=bool)


@pytest.mark.parametrize(
    ("shapes", "imgsz", "tensor_hw"),
    [
        ([(1080, 810)], 320, (320, 256)),  # portrait: rect, multiple of 32
        ([(360, 640)], 320, (192, 320)),
        ([(360, 640), (1080, 810)], 320, (320, 320)),  # batch: the union of shapes
        ([(100, 100)], 640, (640, 640)),  # small images are scaled up
    ],
)
def test_batch_tensor_shapes(shapes: list[tuple[int, int]], imgsz: int, tensor_hw: tuple[int, int]) -> None:
    images = [np.zeros((h, w, 3), dtype=np.uint8) for h, w in shapes]
    tensor, boxes = batch_tensor(images, imgsz)
    assert tensor.shape == (len(images), 3, *tensor_hw) and tensor.dtype == np.float32
    for (h, w), box in zip(shapes, boxes, strict=True):
        assert (box.width, box.height) == (w, h)
        assert max(h, w) * box.scale == pytest.approx(imgsz)


def test_batch_tensor_centres_the_picture_and_swaps_to_rgb() -> None:
    img = np.zeros((100, 180, 3), dtype=np.uint8)
    img[..., 0] = 255  # pure blue in BGR
    tensor, (box,) = batch_tensor([img], 64)
    assert tensor.shape == (1, 3, 64, 64)  # 64x36 picture, height padded up to a multiple of 32
    assert box.top == 14 and box.left == 0  # centred vertically
    assert tensor[0, :, 0, 0] == pytest.approx([PAD_VALUE / 255] * 3)  # padding
    assert tensor[0, :, 32, 32] == pytest.approx([0.0, 0.0, 1.0])  # RGB: blue is the last channel


def _raw(*rows: tuple[float, float, float, float, int, float]) -> np.ndarray:
    """Model output (84, anchors) from (cx, cy, w, h, class, score) rows in input pixels."""
    out = np.zeros((84, len(rows)), dtype=np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[:4, i] = (cx, cy, w, h)
        out[4 + cls, i] = score
    return out


def test_decode_undoes_the_letterbox_and_normalises() -> None:
    box = Letterbox(scale=0.5, left=0, top=16, width=128, height=64)  # 128x64 image in a 64x64 input
    raw = _raw((32, 32, 32, 16, 5, 0.9))  # centre of the input = centre of the image
    dets = decode(raw, box, confidence=0.3, iou=0.5, allowed=ALL, to_coco=TO_COCO)
    assert list(dets.class_name) == ["bus"] and list(dets.class_id) == [5]
    assert dets.xyxy[0] == pytest.approx([0.25, 0.25, 0.75, 0.75])
    assert list(dets.tracker_id) == [-1]


def test_decode_nms_is_per_class_and_best_first() -> None:
    box = Letterbox(scale=1.0, left=0, top=0, width=100, height=100)
    raw = _raw(
        (50, 50, 20, 40, 0, 0.6),
        (51, 50, 20, 40, 0, 0.8),  # same person, better score: wins
        (50, 50, 20, 40, 2, 0.7),  # a car in the same place: kept (other class)
        (10, 10, 5, 5, 0, 0.2),  # below confidence
    )
    dets = decode(raw, box, confidence=0.3, iou=0.5, allowed=ALL, to_coco=TO_COCO)
    assert list(dets.class_name) == ["person", "car"]
    assert dets.confidence == pytest.approx([0.8, 0.7])


def test_decode_class_mask_and_mapping() -> None:
    box = Letterbox(scale=1.0, left=0, top=0, width=100, height=100)
    raw = _raw((50, 50, 20, 40, 0, 0.9), (20, 20, 10, 10, 1, 0.8))
    only_bicycle = np.zeros(80, dtype=bool)
    only_bicycle[1] = True
    dets = decode(raw, box, confidence=0.3, iou=0.5, allowed=only_bicycle, to_coco=TO_COCO)
    assert list(dets.class_name) == [COCO_CLASSES[1]]
    empty = decode(raw[:, :0], box, confidence=0.3, iou=0.5, allowed=ALL, to_coco=TO_COCO)
    assert len(empty) == 0 and empty.xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    ("setting", "cpus", "expected"),
    [(0, 1, 1), (0, 2, 1), (0, 8, 7), (3, 2, 3), (1, 16, 1)],
)
def test_inference_threads_leave_a_core_unless_set(setting: int, cpus: int, expected: int) -> None:
    assert inference_threads(setting, cpus) == expected


def test_cpu_config_is_one_stream_for_a_synchronous_caller() -> None:
    assert cpu_config(3) == {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_NUM_THREADS": "3"}
    assert 1 <= usable_cpus()
