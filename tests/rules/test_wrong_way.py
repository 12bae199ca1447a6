from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from ioc.types import HitKind
from tests.factories import make_camera
from tests.rules.helpers import Step, moving, run_path, still

ROAD = {"id": "road", "polygon": [[0.1, 0.0], [0.9, 0.0], [0.9, 1.0], [0.1, 1.0]]}
DOWN = [[0.5, 0.1], [0.5, 0.9]]  # allowed travel: downwards


def engine(**rule: object) -> RuleEngine:
    spec = {"type": "wrong_way", "id": "ww", "zone": "road", "classes": ["car"], "direction": DOWN, **rule}
    return RuleEngine(make_camera(zones=[ROAD], rules=[spec], detect={"classes": ["car", "person"]}))


def first_hit(steps: list[Step], **rule: object) -> tuple[float, float] | None:
    hits = run_path(engine(**rule), steps, class_name="car")
    return (hits[0].timestamp, hits[0].value or 0.0) if hits else None


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(moving(0, 4, 0.2, (0.5, 0.2), (0, 0.1)), None, id="right-way"),
        pytest.param(moving(0, 4, 0.2, (0.5, 0.8), (0, -0.1)), (1.0, 0.6), id="wrong-way-confirmed"),
        pytest.param(
            moving(0, 4, 0.2, (0.5, 0.8), (0, -0.1), missing=(0.2, 0.4, 0.6)),
            (1.4, 0.6),
            id="flicker-at-start",
        ),
        pytest.param(
            [
                (0.0, (0.5, 0.8)),
                (0.13, (0.5, 0.787)),
                (0.7, (0.5, 0.73)),
                (0.71, (0.5, 0.729)),
                (1.25, (0.5, 0.675)),
            ],
            (1.25, 0.55),
            id="irregular-frames",
        ),
        pytest.param(still(0, 10, 0.2, (0.5, 0.5), jitter=0.008), None, id="waiting-car-jitter"),
        pytest.param(moving(0, 4, 0.2, (0.2, 0.5), (0.1, 0.0)), None, id="crossing-at-90-is-allowed"),
        pytest.param(moving(0, 4, 0.2, (0.2, 0.5), (0.1, -0.02)), (1.0, 0.6), id="a-little-uphill-is-wrong"),
        pytest.param(
            moving(0, 4, 0.2, (0.5, 0.8), (0, -0.005)), None, id="slower-than-min-distance-in-trail"
        ),
        pytest.param(
            [
                *moving(0, 1.0, 0.2, (0.5, 0.2), (0, 0.1)),
                (1.2, (0.5, 0.2)),
                *moving(1.4, 3, 0.2, (0.5, 0.34), (0, 0.1)),
            ],
            None,
            id="one-bad-box-backwards",
        ),
    ],
)
def test_wrong_way_first_hit(steps: list[Step], expected: tuple[float, float] | None) -> None:
    got = first_hit(steps)
    assert got == (None if expected is None else (pytest.approx(expected[0]), pytest.approx(expected[1])))


def test_value_counts_seconds_wrong_through_gaps() -> None:
    steps = moving(0, 3, 0.2, (0.5, 0.8), (0, -0.1), missing=(1.0, 1.2, 1.4))
    hits = run_path(engine(), steps, class_name="car")
    assert [h.timestamp for h in hits][-1] == pytest.approx(3.0)
    assert hits[-1].value == pytest.approx(2.6)
    assert all(h.kind is HitKind.STATE and h.value_unit == "s" and h.zone_id == "road" for h in hits)
    assert 1.2 not in [h.timestamp for h in hits]


def test_hysteresis_near_the_limit() -> None:
    # wrong (upwards), then a heading 85° off: still wrong (needs < 80° to clear); then downwards: clears
    up = moving(0, 1, 0.2, (0.5, 0.8), (0, -0.1))
    wobble = moving(1.2, 3, 0.2, (0.5, 0.7), (0.1, 0.1 * 0.0875))  # ~85° off "down"
    down = moving(3.2, 5, 0.2, (0.68, 0.72), (0.0, 0.1))
    hits = run_path(engine(), up + wobble + down, class_name="car")
    times = [h.timestamp for h in hits]
    assert 2.8 in [pytest.approx(t) for t in times]
    assert max(times) < 3.8


def test_outside_zone_and_other_classes_are_ignored() -> None:
    steps = moving(0, 7, 0.2, (0.5, 0.8), (0, -0.1))
    assert run_path(engine(), steps, class_name="person") == []
    small = {"id": "road", "polygon": [[0.1, 0.0], [0.9, 0.0], [0.9, 0.3], [0.1, 0.3]]}
    spec = {"type": "wrong_way", "id": "ww", "zone": "road", "direction": DOWN}
    eng = RuleEngine(make_camera(zones=[small], rules=[spec], detect={"classes": ["car"]}))
    hits = run_path(eng, steps, class_name="car")
    assert hits and all(h.bbox[3] < 0.3 for h in hits)  # only while the anchor is inside
    assert hits[0].value == pytest.approx(4.8)  # wrong since 0.4 s, inside from 5.2 s (y = 0.28)


def test_forgets_track_after_lost_seconds() -> None:
    eng = engine()
    run_path(eng, moving(0, 2, 0.2, (0.5, 0.8), (0, -0.1)), class_name="car")
    rule = eng.rules[0]
    assert rule.tracked == 1
    run_path(eng, [(5.0, None)], class_name="car")
    assert rule.tracked == 0
