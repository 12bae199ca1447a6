from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ioc.rules import RuleEngine
from tests.factories import make_camera, make_detections

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
YARD = {"id": "yard", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}
NIGHT = {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "22:00", "to": "05:30"}
INSIDE = (0.5, 0.5)


def wall(day: int, hh: int, mm: int = 0) -> float:
    """Unix time of local HH:MM on 2026-11-30 (Monday) + ``day``, in Ho Chi Minh City."""
    return (datetime(2026, 11, 30, hh, mm, tzinfo=HCM) + timedelta(days=day)).timestamp()


def night_engine() -> RuleEngine:
    rule = {"type": "intrusion", "id": "night", "zone": "yard", "schedule": NIGHT}
    return RuleEngine(make_camera(zones=[YARD], rules=[rule]), HCM)


@pytest.mark.parametrize(
    ("wall_time", "fires"),
    [
        pytest.param(wall(0, 21, 59), False, id="before-window"),
        pytest.param(wall(0, 22, 0), True, id="window-opens"),
        pytest.param(wall(1, 0, 30), True, id="after-midnight"),
        pytest.param(wall(1, 5, 30), False, id="window-closed"),
        pytest.param(wall(5, 23, 0), False, id="saturday-night-not-listed"),
    ],
)
def test_schedule_in_site_time_zone(wall_time: float, fires: bool) -> None:
    hits = night_engine().evaluate(make_detections(anchors=[INSIDE]), 0.0, wall_time)
    assert bool(hits) is fires


def test_rule_starts_afresh_when_its_window_opens() -> None:
    eng = night_engine()
    dets = make_detections(anchors=[INSIDE])
    assert eng.evaluate(dets, 0.0, wall(1, 5, 29)) != []
    assert eng.evaluate(dets, 60.0, wall(1, 5, 30)) == []
    hits = eng.evaluate(dets, 59400.0, wall(1, 22, 0))
    assert [h.value for h in hits] == [0.0]  # presence restarted, not 16 h 30 min


def test_scheduled_rules_need_wall_time() -> None:
    with pytest.raises(ValueError, match="wall_time"):
        night_engine().evaluate(make_detections(anchors=[INSIDE]), 0.0)


def test_unscheduled_rules_run_without_wall_time() -> None:
    rule = {"type": "intrusion", "id": "always", "zone": "yard"}
    assert RuleEngine(make_camera(zones=[YARD], rules=[rule])).evaluate(
        make_detections(anchors=[INSIDE]), 0.0
    )


@pytest.mark.parametrize(
    ("anchor", "seen"),
    [
        pytest.param((0.1, 0.1), False, id="anchor-in-mask"),
        pytest.param((0.5, 0.5), True, id="anchor-outside-mask"),
        pytest.param((0.25, 0.5), True, id="box-overlaps-mask-anchor-outside"),
    ],
)
def test_masks_hide_detections_from_every_rule(anchor: tuple[float, float], seen: bool) -> None:
    masks = [{"id": "billboard", "polygon": [[0.0, 0.0], [0.2, 0.0], [0.2, 0.3], [0.0, 0.3]]}]
    rules = [
        {"type": "intrusion", "id": "in", "zone": "yard"},
        {"type": "crowding", "id": "crowd", "min_count": 1},
    ]
    eng = RuleEngine(make_camera(zones=[YARD], rules=rules, masks=masks))
    hits = eng.evaluate(make_detections(anchors=[anchor], size=(0.2, 0.2)), 0.0)
    assert sorted(h.rule_id for h in hits) == (["crowd", "in"] if seen else [])
