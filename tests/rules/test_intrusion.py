from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from ioc.types import Detections, HitKind
from tests.factories import make_camera, make_detections
from tests.rules.helpers import Step, run_path

ZONE = {"id": "restricted", "polygon": [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]]}
IN, OUT = (0.4, 0.5), (0.8, 0.5)


def engine(min_seconds: float = 0.0, **rule: object) -> RuleEngine:
    spec = {"type": "intrusion", "id": "no-entry", "zone": "restricted", "min_seconds": min_seconds, **rule}
    return RuleEngine(make_camera(zones=[ZONE], rules=[spec]))


@pytest.mark.parametrize(
    ("min_seconds", "steps", "expected"),
    [
        pytest.param(
            0.0, [(0.0, OUT), (1.0, IN), (2.0, IN), (3.0, OUT)], [(1.0, 0.0), (2.0, 1.0)], id="entry-exit"
        ),
        pytest.param(
            1.5,
            [(0.0, IN), (0.5, IN), (1.0, IN), (1.4999, IN), (1.5, IN), (2.0, IN)],
            [(1.5, 1.5), (2.0, 2.0)],
            id="min-seconds-exact",
        ),
        pytest.param(
            1.0,
            [(0.0, IN), (1.0, IN), (1.5, OUT), (3.0, OUT), (4.0, IN), (4.5, IN), (5.0, IN)],
            [(1.0, 1.0), (5.0, 1.0)],
            id="long-exit-restarts-clock",
        ),
        pytest.param(
            1.0,
            [(0.0, IN), (0.5, None), (0.9, OUT), (1.2, IN)],
            [(1.2, 1.2)],
            id="short-gap-keeps-clock",
        ),
        pytest.param(0.0, [(0.0, OUT), (1.0, OUT)], [], id="never-inside"),
    ],
)
def test_intrusion_hits(min_seconds: float, steps: list[Step], expected: list[tuple[float, float]]) -> None:
    hits = run_path(engine(min_seconds), steps)
    assert [(h.timestamp, h.value) for h in hits] == [(t, pytest.approx(v)) for t, v in expected]
    assert all(h.kind is HitKind.STATE and h.zone_id == "restricted" and h.value_unit == "s" for h in hits)
    assert all(h.rule_type == "intrusion" and h.track_id == 7 for h in hits)


@pytest.mark.parametrize(
    ("rule", "dets", "expected_tracks"),
    [
        pytest.param(
            {}, make_detections(anchors=[IN, IN], class_name=["person", "car"]), [1, 2], id="default-classes"
        ),
        pytest.param(
            {"classes": ["person"]},
            make_detections(anchors=[IN, IN], class_name=["person", "car"]),
            [1],
            id="class-filter",
        ),
        pytest.param(
            {"min_confidence": 0.5},
            make_detections(anchors=[IN, IN], confidence=[0.49, 0.5]),
            [2],
            id="confidence-filter",
        ),
        pytest.param({}, make_detections(anchors=[IN, IN], tracker_id=[-1, 4]), [4], id="untracked-ignored"),
        pytest.param({"enabled": False}, make_detections(anchors=[IN]), [], id="disabled"),
        pytest.param({}, Detections.empty(), [], id="empty"),
    ],
)
def test_intrusion_filters(rule: dict[str, object], dets: Detections, expected_tracks: list[int]) -> None:
    hits = engine(**rule).evaluate(dets, 0.0)
    assert [h.track_id for h in hits] == expected_tracks


def test_intrusion_keeps_inputs_unchanged_and_reports_the_box() -> None:
    dets = make_detections(anchors=[IN], confidence=0.8)
    before = dets.xyxy.copy()
    (hit,) = engine().evaluate(dets, 0.0)
    assert (dets.xyxy == before).all()
    assert hit.bbox == pytest.approx(tuple(float(v) for v in before[0]))
    assert hit.confidence == pytest.approx(0.8)
    assert hit.object_class == "person"
