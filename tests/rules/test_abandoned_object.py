from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from ioc.types import Detections
from tests.factories import make_camera, make_detections
from tests.rules.helpers import run_frames

HALL = {"id": "hall", "polygon": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]}
BAG = (0.5, 0.6)
NEAR, FAR = (0.55, 0.6), (0.85, 0.3)

Scene = tuple[float, tuple[float, float] | None, tuple[float, float] | None]  # t, bag, owner


def engine(min_seconds: float = 3.0) -> RuleEngine:
    spec = {
        "type": "abandoned_object",
        "id": "bag",
        "zone": "hall",
        "classes": ["backpack", "suitcase"],
        "min_seconds": min_seconds,
        "owner_distance": 0.08,
    }
    detect = {"classes": ["person", "backpack", "suitcase"]}
    return RuleEngine(make_camera(zones=[HALL], rules=[spec], detect=detect))


def frame(bag: tuple[float, float] | None, owner: tuple[float, float] | None) -> Detections:
    anchors, classes, ids = [], [], []
    if bag is not None:
        anchors.append(bag), classes.append("backpack"), ids.append(1)
    if owner is not None:
        anchors.append(owner), classes.append("person"), ids.append(2)
    if not anchors:
        return Detections.empty()
    return make_detections(anchors=anchors, class_name=classes, tracker_id=ids)


def scene(steps: list[Scene]) -> list[tuple[float, Detections]]:
    return [(t, frame(bag, owner)) for t, bag, owner in steps]


def every(
    t0: float, t1: float, bag: tuple[float, float] | None, owner: tuple[float, float] | None
) -> list[Scene]:
    return [(round(t0 + 0.5 * i, 3), bag, owner) for i in range(round((t1 - t0) / 0.5) + 1)]


@pytest.mark.parametrize(
    ("steps", "expected_first"),
    [
        pytest.param(every(0, 2, BAG, NEAR) + every(2.5, 8, BAG, FAR), (5.5, 3.0), id="owner-walks-away"),
        pytest.param(every(0, 10, BAG, NEAR), None, id="owner-stays"),
        pytest.param(every(0, 2, BAG, NEAR) + every(2.5, 8, BAG, None), (5.5, 3.0), id="owner-leaves-view"),
        pytest.param(
            every(0, 2, BAG, NEAR)
            + every(2.5, 4, BAG, FAR)
            + every(4.5, 5, BAG, NEAR)
            + every(5.5, 10, BAG, FAR),
            (8.5, 3.0),
            id="owner-comes-back-restarts-clock",
        ),
        pytest.param(
            [(0.5 * i, (0.2 + 0.05 * i, 0.6), None) for i in range(14)], None, id="carried-bag-moves"
        ),
        pytest.param(
            every(0, 2, BAG, NEAR) + [s for s in every(2.5, 8, BAG, FAR) if s[0] not in (4.0, 4.5)],
            (5.5, 3.0),
            id="bag-flicker-keeps-clock",
        ),
        pytest.param(every(0, 8, (0.95, 0.95), None), None, id="outside-zone"),
        pytest.param(  # the detector also calls the bag itself a person: that box is not its owner
            every(0, 2, BAG, NEAR) + every(2.5, 8, BAG, BAG), (5.5, 3.0), id="bag-misnamed-person-is-no-owner"
        ),
    ],
)
def test_abandoned_first_hit(steps: list[Scene], expected_first: tuple[float, float] | None) -> None:
    hits = run_frames(engine(), scene(steps))
    got = (hits[0].timestamp, hits[0].value) if hits else None
    assert got == (None if expected_first is None else tuple(pytest.approx(v) for v in expected_first))
    assert all(h.object_class == "backpack" and h.value_unit == "s" and h.zone_id == "hall" for h in hits)
