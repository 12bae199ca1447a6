"""Region planning, mapping back and merging (pure numpy, table-driven)."""

from __future__ import annotations

import numpy as np
import pytest

from ioc.detect.regions import Region, around, merge, plan_regions, to_frame, whole
from ioc.types import Detections
from tests.factories import make_detections


@pytest.mark.parametrize(
    ("box", "size", "expected"),
    [
        ((100, 100, 140, 200), (768, 576), Region(0, 0, 320, 320)),  # small box: 320 square, shifted inside
        ((400, 300, 440, 400), (768, 576), Region(260, 190, 580, 510)),  # centred on the box
        ((700, 500, 760, 570), (768, 576), Region(448, 256, 768, 576)),  # at the corner: shifted in
        ((100, 100, 400, 400), (768, 576), Region(25, 25, 475, 475)),  # big box: 1.5 × its side
        ((10, 10, 50, 50), (200, 150), Region(0, 0, 200, 150)),  # frame smaller than the model input
    ],
)
def test_region_around_a_box(box: tuple[int, ...], size: tuple[int, int], expected: Region) -> None:
    assert around(box, *size, min_side=320) == expected


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([], []),
        ([(400, 300, 440, 400)], [Region(260, 190, 580, 510)]),
        ([(100, 100, 140, 200), (150, 120, 190, 220)], [Region(0, 0, 330, 330)]),  # overlapping: one
        ([(20, 20, 60, 100), (700, 480, 740, 560)], [Region(0, 0, 320, 320), Region(448, 256, 768, 576)]),
    ],
)
def test_plan_regions_merges_overlaps(boxes: list[tuple[int, ...]], expected: list[Region]) -> None:
    assert plan_regions(boxes, 768, 576, min_side=320) == expected


@pytest.mark.parametrize(
    ("boxes", "max_regions"),
    [
        ([(i * 250, 10, i * 250 + 20, 40) for i in range(5)], 4),  # too many separate regions
        ([(0, 0, 700, 500)], 4),  # one region would need the whole frame
        ([(10, 10, 30, 30), (700, 500, 720, 520), (10, 500, 30, 520), (700, 10, 720, 30)], 4),  # most of it
    ],
)
def test_full_frame_is_the_better_plan(boxes: list[tuple[int, ...]], max_regions: int) -> None:
    assert plan_regions(boxes, 768, 576, min_side=320, max_regions=max_regions) is None


def test_regions_lie_inside_the_frame_and_never_overlap() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        w, h = int(rng.integers(400, 2000)), int(rng.integers(300, 1200))
        boxes = []
        for _ in range(int(rng.integers(1, 4))):
            x, y = float(rng.uniform(0, w - 20)), float(rng.uniform(0, h - 20))
            boxes.append((x, y, x + 20, y + 40))
        regions = plan_regions(boxes, w, h, min_side=320, max_regions=8)
        if regions is None:
            continue
        for r in regions:
            assert 0 <= r.x1 < r.x2 <= w and 0 <= r.y1 < r.y2 <= h
        for i, a in enumerate(regions):
            assert not any(a.overlaps(b) for b in regions[i + 1 :])


def test_detections_on_a_crop_map_back_to_the_frame() -> None:
    dets = make_detections([(0.25, 0.5, 0.5, 1.0)], tracker_id=-1)
    mapped = to_frame(dets, Region(100, 50, 420, 370), 800, 600)
    np.testing.assert_allclose(mapped.xyxy, [[180 / 800, 210 / 600, 260 / 800, 370 / 600]], rtol=1e-6)
    np.testing.assert_allclose(dets.xyxy, [[0.25, 0.5, 0.5, 1.0]])  # the input is untouched


@pytest.mark.parametrize(
    ("boxes", "confidences", "names", "kept"),
    [
        ([(0.1, 0.1, 0.3, 0.5), (0.11, 0.1, 0.31, 0.5)], [0.9, 0.8], ["person", "person"], [0]),
        ([(0.1, 0.1, 0.3, 0.5), (0.11, 0.1, 0.31, 0.5)], [0.7, 0.8], ["person", "person"], [1]),
        ([(0.1, 0.1, 0.3, 0.5), (0.11, 0.1, 0.31, 0.5)], [0.9, 0.8], ["person", "car"], [0, 1]),  # by class
        ([(0.1, 0.1, 0.3, 0.5), (0.1, 0.1, 0.2, 0.5)], [0.9, 0.6], ["car", "car"], [0]),  # cut by a crop edge
        ([(0.1, 0.1, 0.3, 0.5), (0.5, 0.1, 0.7, 0.5)], [0.9, 0.6], ["car", "car"], [0, 1]),  # two objects
    ],
)
def test_merge_drops_duplicates_across_crops(
    boxes: list[tuple[float, ...]], confidences: list[float], names: list[str], kept: list[int]
) -> None:
    dets = Detections(
        xyxy=np.asarray(boxes, dtype=np.float32),
        confidence=np.asarray(confidences, dtype=np.float32),
        class_id=np.zeros(len(boxes), dtype=np.int64),
        class_name=np.asarray(names, dtype=object),
        tracker_id=np.full(len(boxes), -1, dtype=np.int64),
    )
    merged = merge(dets, iou=0.5)
    np.testing.assert_array_equal(merged.xyxy, dets.xyxy[kept])


@pytest.mark.parametrize(
    ("box", "region", "kept"),
    [
        ((0.3, 0.3, 0.6, 0.7), Region(100, 100, 420, 420), True),  # inside: what the crop is for
        ((0.0, 0.3, 0.2, 0.7), Region(100, 100, 420, 420), False),  # cut by the crop's left side
        ((0.5, 0.5, 1.0, 0.9), Region(100, 100, 420, 420), False),  # cut by its right side
        ((0.0, 0.3, 0.2, 0.7), Region(0, 100, 320, 420), True),  # that side is the frame's: kept
        ((0.5, 0.5, 0.9, 1.0), Region(100, 256, 420, 576), True),  # bottom of the frame: kept
    ],
)
def test_boxes_cut_by_a_crop_side_inside_the_frame_are_dropped(
    box: tuple[float, ...], region: Region, kept: bool
) -> None:
    dets = make_detections([box], tracker_id=-1)
    assert len(whole(dets, region, 768, 576)) == (1 if kept else 0)
