from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from ioc.types import ZONE_TRACK, Detections, HitKind
from tests.factories import make_camera, make_detections
from tests.rules.helpers import run_frames

SQUARE = {"id": "square", "polygon": [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]}
INSIDE = [(0.3 + 0.05 * i, 0.5) for i in range(10)]
OUTSIDE = (0.9, 0.9)


def engine(kind: str = "crowding", min_count: int = 5, min_seconds: float = 2.0) -> RuleEngine:
    spec = {"type": kind, "id": "crowd", "zone": "square", "min_count": min_count, "min_seconds": min_seconds}
    classes = ["person"] if kind == "crowding" else ["car", "bus"]
    camera = make_camera(
        zones=[SQUARE], rules=[spec], detect={"classes": classes}, track={"lost_track_seconds": 1.0}
    )
    return RuleEngine(camera)


def people(ids: list[int], outside: list[int] | None = None, cls: str = "person") -> Detections:
    outside = outside or []
    anchors = [INSIDE[i] for i in ids] + [OUTSIDE for _ in outside]
    if not anchors:
        return Detections.empty()
    return make_detections(anchors=anchors, tracker_id=[*ids, *outside], class_name=cls)


def timeline(counts: list[int], dt: float = 0.5) -> list[tuple[float, Detections]]:
    """One frame every ``dt`` seconds: ten people, the first ``n`` inside, the rest seen outside."""
    return [(i * dt, people(list(range(n)), outside=list(range(n, 10)))) for i, n in enumerate(counts)]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param([4] * 10, [], id="never-enough"),
        pytest.param([5] * 6, [(2.0, 5), (2.5, 5)], id="forms-and-holds-2s"),
        pytest.param([3, 4, 5, 6, 6, 6, 6, 7, 2, 2, 2], [(3.0, 6), (3.5, 7)], id="forms-then-disperses"),
        pytest.param([5, 4, 5, 4, 5, 4, 5], [(2.0, 5), (3.0, 5)], id="wavering-at-threshold-keeps-clock"),
        pytest.param([5, 5, 4, 4, 4, 5, 5, 5, 5, 5], [(4.5, 5)], id="long-dip-restarts-clock"),
    ],
)
def test_crowd_count_and_clock(counts: list[int], expected: list[tuple[float, int]]) -> None:
    hits = run_frames(engine(), timeline(counts))
    assert [(h.timestamp, h.value) for h in hits] == [(t, float(n)) for t, n in expected]
    assert all(h.track_id == ZONE_TRACK and h.kind is HitKind.STATE and h.value_unit == "count" for h in hits)


def test_missed_person_still_counts_walking_out_does_not() -> None:
    eng = engine(min_seconds=0.0)
    assert len(eng.evaluate(people([0, 1, 2, 3, 4]), 0.0)) == 1
    assert [h.value for h in eng.evaluate(people([0, 1, 2, 3]), 0.5)] == [5.0]  # 4 was missed: still in
    assert eng.evaluate(people([0, 1, 2, 3], outside=[4]), 0.7) == []  # 4 walked out


def test_hit_box_covers_the_crowd_and_names_the_class() -> None:
    hits = engine(min_seconds=0.0).evaluate(people([0, 1, 2, 3, 4, 5]), 0.0)
    (hit,) = hits
    assert hit.object_class == "person" and hit.zone_id == "square"
    assert hit.bbox[0] == pytest.approx(0.3 - 0.03) and hit.bbox[2] == pytest.approx(0.55 + 0.03)


def test_congestion_counts_vehicles_for_min_seconds() -> None:
    eng = engine("congestion", min_count=3, min_seconds=30.0)
    frames = [(float(t), people([0, 1, 2], cls="car")) for t in range(0, 32, 2)]
    hits = run_frames(eng, frames)
    assert [(h.timestamp, h.value, h.rule_type) for h in hits] == [(30.0, 3.0, "congestion")]
