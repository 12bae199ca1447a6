from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from ioc.rules.loitering import Loitering
from tests.factories import make_camera, make_detections
from tests.rules.helpers import Step, run_path

ZONE = {"id": "plaza", "polygon": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]}
IN, OUT = (0.5, 0.5), (0.95, 0.95)


def engine(min_dwell: float = 3.0, lost: float = 1.5) -> RuleEngine:
    rule = {"type": "loitering", "id": "loiter", "zone": "plaza", "min_dwell_seconds": min_dwell}
    return RuleEngine(make_camera(zones=[ZONE], rules=[rule], track={"lost_track_seconds": lost}))


def regular(start: float, stop: float, step: float, anchor: tuple[float, float] | None = IN) -> list[Step]:
    n = round((stop - start) / step)
    return [(start + i * step, anchor) for i in range(n + 1)]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(regular(0.0, 4.0, 0.5), [(3.0, 3.0), (3.5, 3.5), (4.0, 4.0)], id="regular-frames"),
        pytest.param(regular(100.0, 103.0, 0.25), [(103.0, 3.0)], id="offset-stream-time"),
        pytest.param(
            [(0.0, IN), (0.2, IN), (1.3, IN), (2.7, IN), (2.999, IN), (3.0, IN), (3.4, IN)],
            [(3.0, 3.0), (3.4, 3.4)],
            id="dropped-frames-irregular",
        ),
        pytest.param(
            [(0.0, IN), (1.0, IN), (1.2, None), (2.0, None), (2.4, IN), (3.0, IN)],
            [(3.0, 3.0)],
            id="lost-then-found-keeps-dwell",
        ),
        pytest.param(
            [(0.0, IN), (1.0, IN), (1.5, OUT), (2.0, OUT), (2.2, IN), (3.1, IN)],
            [(3.1, 3.1)],
            id="brief-exit-keeps-dwell",
        ),
        pytest.param(
            [(0.0, IN), (1.0, IN), *regular(2.5, 5.5, 1.0)],
            [(5.5, 3.0)],
            id="gap-equal-lost-resets",
        ),
        pytest.param(
            [(0.0, IN), (1.0, IN), (2.0, IN), (2.5, OUT), (4.0, OUT), *regular(4.4, 7.4, 1.0)],
            [(7.4, 3.0)],
            id="long-exit-resets",
        ),
    ],
)
def test_loitering_dwell(steps: list[Step], expected: list[tuple[float, float]]) -> None:
    hits = run_path(engine(), steps)
    assert [(h.timestamp, h.value) for h in hits] == [(t, pytest.approx(v)) for t, v in expected]
    assert all(h.rule_type == "loitering" and h.value_unit == "s" and h.zone_id == "plaza" for h in hits)


def test_loitering_dwell_per_track() -> None:
    eng = engine(min_dwell=1.0)
    assert eng.evaluate(make_detections(anchors=[IN], tracker_id=[1]), 0.0) == []
    hits = eng.evaluate(make_detections(anchors=[IN, IN], tracker_id=[1, 2]), 1.0)
    assert [(h.track_id, h.value) for h in hits] == [(1, 1.0)]


def test_loitering_forgets_tracks_unseen_for_long() -> None:
    eng = engine(min_dwell=1.0, lost=1.0)
    rule = eng.rules[0]
    assert isinstance(rule, Loitering)
    eng.evaluate(make_detections(anchors=[IN] * 50, tracker_id=range(50)), 0.0)
    assert rule.tracked == 50
    eng.evaluate(make_detections(anchors=[IN], tracker_id=[99]), 1.9)
    assert rule.tracked == 51
    eng.evaluate(make_detections(anchors=[IN], tracker_id=[99]), 2.1)
    assert rule.tracked == 1


def test_time_going_back_resets_dwell() -> None:
    eng = engine(min_dwell=1.0)
    run_path(eng, regular(0.0, 5.0, 0.5))
    assert run_path(eng, [(0.0, IN), (0.5, IN)]) == []
