from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from ioc.geometry import side_of_line
from ioc.rules import RuleEngine
from ioc.rules.line_crossing import LineCrossing
from ioc.types import HitKind
from tests.factories import make_camera, make_detections
from tests.rules.helpers import run_path

Pt = tuple[float, float]
HORIZONTAL = ((0.2, 0.5), (0.8, 0.5))  # in = moving down (cross > 0 below the line)
VERTICAL = ((0.5, 0.2), (0.5, 0.8))  # in = moving left
DIAGONAL = ((0.2, 0.2), (0.8, 0.8))  # in = moving towards the lower-left side


def engine(points: Sequence[Pt] = HORIZONTAL, cooldown: float = 30.0, **rule: object) -> RuleEngine:
    spec = {"type": "line_crossing", "id": "count", "line": "l1", "cooldown_seconds": cooldown, **rule}
    return RuleEngine(make_camera(lines=[{"id": "l1", "points": list(points)}], rules=[spec]))


def path(*points: Pt | None) -> list[tuple[float, Pt | None]]:
    return [(float(i), p) for i, p in enumerate(points)]


@pytest.mark.parametrize(
    ("points", "anchors", "expected"),
    [
        pytest.param(HORIZONTAL, [(0.5, 0.4), (0.5, 0.6)], ["in"], id="horizontal-down-in"),
        pytest.param(HORIZONTAL, [(0.5, 0.6), (0.5, 0.4)], ["out"], id="horizontal-up-out"),
        pytest.param(HORIZONTAL[::-1], [(0.5, 0.4), (0.5, 0.6)], ["out"], id="reversed-line-flips"),
        pytest.param(VERTICAL, [(0.6, 0.5), (0.4, 0.5)], ["in"], id="vertical-left-in"),
        pytest.param(VERTICAL, [(0.4, 0.5), (0.6, 0.5)], ["out"], id="vertical-right-out"),
        pytest.param(DIAGONAL, [(0.6, 0.4), (0.4, 0.6)], ["in"], id="diagonal-in"),
        pytest.param(DIAGONAL, [(0.4, 0.6), (0.6, 0.4)], ["out"], id="diagonal-out"),
        pytest.param(HORIZONTAL, [(0.9, 0.4), (0.9, 0.6)], [], id="beside-segment-right"),
        pytest.param(HORIZONTAL, [(0.1, 0.6), (0.1, 0.4)], [], id="beside-segment-left"),
        pytest.param(DIAGONAL, [(0.95, 0.85), (0.85, 0.95)], [], id="beside-diagonal-end"),
        pytest.param(HORIZONTAL, [(0.9, 0.4), (0.5, 0.6)], ["in"], id="slanted-motion-through-segment"),
        pytest.param(HORIZONTAL, [(0.5, 0.4), (0.5, 0.5), (0.5, 0.4)], [], id="touch-line-and-return"),
        pytest.param(
            HORIZONTAL, [(0.5, 0.4), (0.5, 0.5), (0.5, 0.6)], ["in"], id="through-exact-point-on-line"
        ),
        pytest.param(HORIZONTAL, [(0.5, 0.5), (0.5, 0.6)], [], id="first-seen-on-line"),
        pytest.param(
            HORIZONTAL,
            [(0.5, 0.45), (0.5, 0.505), (0.5, 0.495), (0.5, 0.508), (0.5, 0.492), (0.5, 0.509), (0.5, 0.55)],
            ["in"],
            id="jitter-inside-band-counts-once",
        ),
        pytest.param(
            HORIZONTAL,
            [(0.5, 0.4), (0.5, 0.6), (0.5, 0.4), (0.5, 0.6), (0.5, 0.4), (0.5, 0.6)],
            ["in", "out"],
            id="jitter-beyond-band-within-cooldown",
        ),
        pytest.param(
            HORIZONTAL, [(0.5, 0.4), None, None, (0.5, 0.6)], ["in"], id="missed-frames-then-other-side"
        ),
    ],
)
def test_crossing_directions(points: Sequence[Pt], anchors: list[Pt | None], expected: list[str]) -> None:
    hits = run_path(engine(points), path(*anchors))
    assert [h.direction for h in hits] == expected
    assert all(h.kind is HitKind.EVENT and h.line_id == "l1" and h.value_unit == "count" for h in hits)


@pytest.mark.parametrize(
    ("a", "b", "start", "end"),
    [
        (HORIZONTAL[0], HORIZONTAL[1], (0.5, 0.4), (0.5, 0.6)),
        (DIAGONAL[0], DIAGONAL[1], (0.6, 0.4), (0.4, 0.6)),
    ],
)
def test_in_means_side_goes_negative_to_positive(a: Pt, b: Pt, start: Pt, end: Pt) -> None:
    sides = side_of_line(a, b, np.asarray([start, end], dtype=np.float32))
    assert sides[0] < 0 < sides[1]
    assert [h.direction for h in run_path(engine((a, b)), path(start, end))] == ["in"]


def test_cooldown_expiry_counts_again() -> None:
    down, up = (0.5, 0.4), (0.5, 0.6)
    steps = [(0.0, down), (1.0, up), (2.0, down), (2.9, up), (3.0, down), (4.0, up)]
    hits = run_path(engine(cooldown=2.0), steps)
    # in@1; out@2; in@2.9 is 1.9 s after in@1 → suppressed; out@3.0 is 1.0 s after out@2 → suppressed;
    # in@4.0 is 3.0 s after the last counted in → counts.
    assert [(h.timestamp, h.direction, h.value) for h in hits] == [
        (1.0, "in", 1.0),
        (2.0, "out", 1.0),
        (4.0, "in", 2.0),
    ]


def test_directions_filter_emits_only_listed_but_counts_all() -> None:
    eng = engine(cooldown=0.0, directions=["in"])
    hits = run_path(eng, path((0.5, 0.4), (0.5, 0.6), (0.5, 0.4), (0.5, 0.6)))
    assert [(h.direction, h.value) for h in hits] == [("in", 1.0), ("in", 2.0)]
    rule = eng.rules[0]
    assert isinstance(rule, LineCrossing)
    assert rule.counts == {"in": 2, "out": 1}


@pytest.mark.parametrize(
    ("rule", "class_name", "confidence", "expected"),
    [
        pytest.param({"classes": ["car"]}, "person", 0.9, 0, id="class-not-listed"),
        pytest.param({"classes": ["car"]}, "car", 0.9, 1, id="class-listed"),
        pytest.param({"min_confidence": 0.5}, "car", 0.3, 0, id="low-confidence"),
        pytest.param({"enabled": False}, "car", 0.9, 0, id="disabled"),
    ],
)
def test_crossing_filters(rule: dict[str, object], class_name: str, confidence: float, expected: int) -> None:
    hits = run_path(
        engine(**rule), path((0.5, 0.4), (0.5, 0.6)), class_name=class_name, confidence=confidence
    )
    assert len(hits) == expected


def test_running_count_across_tracks() -> None:
    eng = engine()
    eng.evaluate(make_detections(anchors=[(0.3, 0.4), (0.7, 0.4)], tracker_id=[1, 2]), 0.0)
    hits = eng.evaluate(make_detections(anchors=[(0.3, 0.6), (0.7, 0.6)], tracker_id=[1, 2]), 0.2)
    assert [(h.track_id, h.value) for h in hits] == [(1, 1.0), (2, 2.0)]


def test_forgotten_track_does_not_count_on_reappearance() -> None:
    eng = engine()
    rule = eng.rules[0]
    assert isinstance(rule, LineCrossing)
    eng.evaluate(make_detections(anchors=[(0.5, 0.4)], tracker_id=[5]), 0.0)
    eng.evaluate(make_detections(anchors=[(0.3, 0.3)], tracker_id=[6]), 2.4)
    assert rule.tracked == 2  # default lost_track_seconds 1.5 + 1 s margin not yet passed
    eng.evaluate(make_detections(anchors=[(0.3, 0.3)], tracker_id=[6]), 2.6)
    assert rule.tracked == 1
    assert eng.evaluate(make_detections(anchors=[(0.5, 0.6)], tracker_id=[5]), 3.0) == []


@pytest.mark.parametrize(
    ("anchors", "expected"),
    [
        pytest.param(
            [(0.5, 0.45), (0.5, 0.505), (0.5, 0.45), (0.5, 0.508), (0.5, 0.45)], [], id="dips-into-band"
        ),
        pytest.param(
            [(0.5, 0.55), (0.5, 0.495), (0.5, 0.55), (0.5, 0.492), (0.5, 0.55)], [], id="rises-into-band"
        ),
        pytest.param(
            [(0.5, 0.45), (0.5, 0.52), (0.5, 0.495), (0.5, 0.505), (0.5, 0.52)],
            ["in"],
            id="crosses-then-wobbles",
        ),
    ],
)
def test_hysteresis_band_without_cooldown(anchors: list[Pt], expected: list[str]) -> None:
    hits = run_path(engine(cooldown=0.0), path(*anchors))
    assert [h.direction for h in hits] == expected


@pytest.mark.parametrize(
    ("calibrated", "kmh"),
    [pytest.param(True, 36.0, id="calibrated-36kmh"), pytest.param(False, None, id="uncalibrated")],
)
def test_crossings_carry_ground_speed_when_calibrated(calibrated: bool, kmh: float | None) -> None:
    # image x maps to 50 m per unit; 0.2 units/s = 10 m/s = 36 km/h, crossing x = 0.5 at 1.5 s
    square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
    calibration = {"image_points": square, "world_points": [[0, 0], [30, 0], [30, 30], [0, 30]]}
    extra = {"calibration": calibration} if calibrated else {}
    line = {"id": "mid", "points": [[0.5, 0.9], [0.5, 0.1]]}
    camera = make_camera(lines=[line], rules=[{"type": "line_crossing", "id": "c", "line": "mid"}], **extra)
    steps = [(round(0.1 * i, 1), (0.2 + 0.02 * i, 0.5)) for i in range(31)]
    (hit,) = run_path(RuleEngine(camera), steps)
    assert hit.speed_kmh == (None if kmh is None else pytest.approx(kmh, abs=0.1))
