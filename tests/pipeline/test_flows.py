"""Flow counts from line-crossing hits: interval boundaries, classes, directions, gaps, speeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ioc.config.models import CameraConfig
from ioc.messages import FlowCount
from ioc.pipeline.flows import FlowCounter, interval_start
from ioc.types import HitKind, RuleHit
from tests.factories import make_camera, make_frame, make_hit

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a multiple of 60
Cross = tuple[str, str]  # class, direction
Step = tuple[float, Sequence[Cross]] | None  # seconds after T0, crossings on that frame; None: no frames
GAP = None
FILL_SECONDS = 1.0  # between two steps the camera delivers a frame every second, as a live one does
Report = tuple[float, float, bool, dict[Cross, int]]  # start, end (s after T0), partial, counts


def camera(interval: float = 60.0, **rule: Any) -> CameraConfig:
    spec = {"type": "line_crossing", "id": "count", "line": "l1", "interval_seconds": interval, **rule}
    return make_camera(
        lines=[{"id": "l1", "points": [[0.2, 0.5], [0.8, 0.5]]}],
        rules=[spec],
        category="traffic",
        detect={"classes": ["car", "motorcycle", "bus", "person"]},
    )


def crossing(t: float, object_class: str, direction: str, **fields: Any) -> RuleHit:
    return make_hit(
        t,
        rule_id=fields.pop("rule_id", "count"),
        rule_type=fields.pop("rule_type", "line_crossing"),
        kind=fields.pop("kind", HitKind.EVENT),
        object_class=object_class,
        direction=direction,
        **fields,
    )


def run(counter: FlowCounter, steps: Sequence[Step], flush: bool = True) -> list[FlowCount]:
    """Frames at the steps, and every ``FILL_SECONDS`` between two steps unless a ``GAP`` separates them."""
    out: list[FlowCount] = []
    previous: float | None = None
    for step in steps:
        if step is None:
            previous = None
            continue
        t, crossings = step
        fill = previous + FILL_SECONDS if previous is not None else t
        while fill < t:
            out.extend(counter.step([], make_frame(fill, wall_time=T0 + fill)))
            fill += FILL_SECONDS
        frame = make_frame(t, wall_time=T0 + t)
        out.extend(counter.step([crossing(t, c, d) for c, d in crossings], frame))
        previous = t
    if flush:
        out.extend(counter.flush())
    return out


def summary(flows: Sequence[FlowCount]) -> list[Report]:
    return [
        (
            round(f.started_at.timestamp() - T0, 3),
            round(f.ended_at.timestamp() - T0, 3),
            f.partial,
            {(b.object_class, b.direction): b.count for b in f.counts},
        )
        for f in flows
    ]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [(0, [("car", "in")]), (30, [("car", "in"), ("car", "out")]), (59.5, [])],
            [(0, 59.5, True, {("car", "in"): 2, ("car", "out"): 1})],
            id="one-interval-flushed-partial",
        ),
        pytest.param(
            [(0, []), (59.999, [("car", "in")]), (60, [("car", "in")]), (120, [])],
            [(0, 60, False, {("car", "in"): 1}), (60, 120, False, {("car", "in"): 1}), (120, 120, True, {})],
            id="boundary-belongs-to-the-later-interval",
        ),
        pytest.param(
            [(0, [("car", "in"), ("motorcycle", "in"), ("motorcycle", "in"), ("bus", "out")]), (60, [])],
            [
                (0, 60, False, {("bus", "out"): 1, ("car", "in"): 1, ("motorcycle", "in"): 2}),
                (60, 60, True, {}),
            ],
            id="classes-and-directions-apart",
        ),
        pytest.param(
            [(0, []), (61, []), (125, [])],
            [(0, 60, False, {}), (60, 120, False, {}), (120, 125, True, {})],
            id="quiet-intervals-report-zero",
        ),
        pytest.param(
            [(10, [("car", "out")]), (20, []), GAP, (200, [("car", "in")]), (210, [])],
            [(10, 20, True, {("car", "out"): 1}), (200, 210, True, {("car", "in"): 1})],
            id="gap-without-frames-is-not-reported",
        ),
        pytest.param(
            [(0, []), (2, [("car", "in")]), GAP, (40, [("car", "out")]), (42, []), (61, [])],
            [(0, 2, True, {("car", "in"): 1}), (40, 60, True, {("car", "out"): 1}), (60, 61, True, {})],
            id="silence-inside-an-interval-is-not-watched",
        ),
        pytest.param(
            [(0, []), (58, []), GAP, (75, [("car", "in")]), (80, [])],
            [(0, 58, True, {}), (75, 80, True, {("car", "in"): 1})],
            id="silence-across-a-boundary",
        ),
        pytest.param(
            [(30, [("car", "in")]), (90, [])],
            [(30, 60, True, {("car", "in"): 1}), (60, 90, True, {})],
            id="started-inside-an-interval",
        ),
        pytest.param(
            [(0, [("car", "in")]), (40, [("car", "in")]), (20, [("car", "out")]), (50, [])],
            [(0, 40, True, {("car", "in"): 2}), (20, 50, True, {("car", "out"): 1})],
            id="clock-went-back",
        ),
    ],
)
def test_flow_intervals(steps: Sequence[Step], expected: list[Report]) -> None:
    assert summary(run(FlowCounter(camera()), steps)) == expected


@pytest.mark.parametrize(
    ("interval", "steps", "expected_starts"),
    [
        pytest.param(15, [(0, []), (14.9, []), (15, []), (44, [])], [0, 15, 30], id="15s"),
        pytest.param(300, [(0, []), (299, []), (301, [])], [0, 300], id="5min"),
    ],
)
def test_interval_seconds(interval: float, steps: Sequence[Step], expected_starts: list[float]) -> None:
    flows = run(FlowCounter(camera(interval)), steps)
    assert [r[0] for r in summary(flows)] == expected_starts
    assert all(f.interval_seconds == interval for f in flows)


def test_only_event_crossings_of_its_own_rule_count() -> None:
    counter = FlowCounter(camera())
    hits = [
        crossing(1, "car", "in"),
        crossing(1, "car", "in", rule_id="other"),
        crossing(1, "person", "in", rule_type="intrusion", kind=HitKind.STATE),
    ]
    counter.step(hits, make_frame(1, wall_time=T0 + 1))
    assert summary(counter.flush()) == [(1, 1, True, {("car", "in"): 1})]


def test_mean_speed_when_crossings_carry_one() -> None:
    counter = FlowCounter(camera())
    frame = make_frame(1, wall_time=T0 + 1)
    hits = [
        _with_speed(crossing(1, "car", "in"), 40.0),
        _with_speed(crossing(1, "car", "in"), 50.0),
        crossing(1, "car", "in"),
        crossing(1, "bus", "out"),
    ]
    counter.step(hits, frame)
    (flow,) = counter.flush()
    by_key = {(b.object_class, b.direction): b for b in flow.counts}
    assert (by_key["car", "in"].count, by_key["car", "in"].mean_speed_kmh) == (3, 45.0)
    assert by_key["car", "in"].speed_samples == 2
    assert (by_key["bus", "out"].mean_speed_kmh, by_key["bus", "out"].speed_samples) == (None, 0)


def _with_speed(hit: RuleHit, speed: float) -> RuleHit:
    from dataclasses import replace

    return replace(hit, speed_kmh=speed)


def test_messages_name_camera_rule_line_and_category() -> None:
    (flow,) = run(FlowCounter(camera()), [(0, [("car", "in")])])
    assert (flow.camera_id, flow.rule_id, flow.line_id, flow.category.value) == (
        "cam-1",
        "count",
        "l1",
        "traffic",
    )
    assert flow.total == 1


def test_disabled_and_other_rules_have_no_flow() -> None:
    cam = make_camera(
        lines=[{"id": "l1", "points": [[0.2, 0.5], [0.8, 0.5]]}],
        zones=[{"id": "z", "polygon": [[0, 0], [1, 0], [1, 1]]}],
        rules=[
            {"type": "line_crossing", "id": "off", "line": "l1", "enabled": False},
            {"type": "intrusion", "id": "in-zone", "zone": "z"},
        ],
    )
    assert FlowCounter(cam).rule_ids == ()


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        pytest.param({}, [], id="unchanged-keeps-counting"),
        pytest.param({"severity": "warning"}, [(0, 30, True, {("car", "in"): 1})], id="rule-changed"),
        pytest.param({"interval_seconds": 30}, [(0, 30, True, {("car", "in"): 1})], id="interval-changed"),
    ],
)
def test_reconfigure(change: dict[str, Any], reported: list[Report]) -> None:
    counter = FlowCounter(camera())
    run(counter, [(0, [("car", "in")]), (30, [])], flush=False)
    assert summary(counter.reconfigure(camera(**change))) == reported
    later = run(counter, [(31, []), (40, [("car", "out")]), (50, [])])
    expected_start = 0 if not reported else 31
    assert summary(later)[0][0] == expected_start


def test_interval_start_is_aligned_with_a_float_tolerance() -> None:
    assert interval_start(T0 + 59.999, 60) == T0
    assert interval_start(T0 + 60, 60) == T0 + 60
    assert interval_start(0.1 + 0.2, 0.3) == 0.3  # 0.30000000000000004 / 0.3 is not quite 1
