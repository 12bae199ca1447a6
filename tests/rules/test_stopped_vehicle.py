from __future__ import annotations

import pytest

from ioc.rules import RuleEngine
from tests.factories import make_camera
from tests.rules.helpers import Step, moving, run_path, still

NO_STOP = {"id": "no_stopping", "polygon": [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]]}
SQUARE = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
CALIBRATION = {"image_points": SQUARE, "world_points": [[0, 0], [30, 0], [30, 30], [0, 30]]}  # 50 m/unit


def engine(min_stopped: float = 3.0, calibrated: bool = False, **rule: object) -> RuleEngine:
    spec = {
        "type": "stopped_vehicle",
        "id": "stop",
        "zone": "no_stopping",
        "classes": ["car"],
        "min_stopped_seconds": min_stopped,
        **rule,
    }
    extra = {"calibration": CALIBRATION} if calibrated else {}
    return RuleEngine(make_camera(zones=[NO_STOP], rules=[spec], detect={"classes": ["car"]}, **extra))


def arrive_and_stop(stop_at: float = 2.0, until: float = 8.0, dt: float = 0.2) -> list[Step]:
    """Drives right at 0.1 units/s from x = 0.3, stops at ``stop_at`` and stands until ``until``."""
    x = 0.3 + 0.1 * stop_at
    return moving(0, stop_at, dt, (0.3, 0.5), (0.1, 0)) + still(stop_at + dt, until, dt, (x, 0.5))


@pytest.mark.parametrize(
    ("steps", "expected_first"),
    [
        pytest.param(arrive_and_stop(), (5.0, 3.0), id="stops-at-2s"),
        pytest.param(moving(0, 8, 0.2, (0.2, 0.5), (0.1, 0)), None, id="passing-through"),
        pytest.param(
            moving(0, 2, 0.2, (0.3, 0.5), (0.1, 0)) + still(2.2, 8, 0.2, (0.5, 0.5), jitter=0.003),
            (5.0, 3.0),
            id="jittering-box-still-stopped",
        ),
        pytest.param(
            [s for s in arrive_and_stop() if not 3.0 < s[0] < 4.0],
            (5.0, 3.0),
            id="flicker-keeps-clock",
        ),
        pytest.param(
            [*arrive_and_stop(dt=0.5)[:5], *[(t, (0.5, 0.5)) for t in (2.5, 3.7, 5.1, 6.0)]],
            (6.0, 3.5),  # still over the window 2.5 → 3.7: stopped since 2.5 (no frame between 2.0 and 2.5)
            id="irregular-frames",
        ),
        pytest.param(still(0, 8, 0.2, (0.9, 0.5)), None, id="stopped-outside-zone"),
        pytest.param(
            arrive_and_stop(until=4.0)
            + moving(4.2, 5.0, 0.2, (0.5, 0.5), (0.1, 0))
            + still(5.2, 9.0, 0.2, (0.58, 0.5)),
            (8.0, 3.0),
            id="stop-and-go-restarts-clock",
        ),
    ],
)
def test_stopped_vehicle_first_hit(steps: list[Step], expected_first: tuple[float, float] | None) -> None:
    hits = run_path(engine(), steps, class_name="car")
    got = (hits[0].timestamp, hits[0].value) if hits else None
    want = None if expected_first is None else tuple(pytest.approx(v) for v in expected_first)
    assert got == want
    assert all(h.value_unit == "s" and h.zone_id == "no_stopping" for h in hits)


def test_hits_every_frame_until_it_leaves() -> None:
    steps = arrive_and_stop(until=6.0) + moving(6.2, 8.0, 0.2, (0.5, 0.5), (0.2, 0))
    hits = run_path(engine(), steps, class_name="car")
    # 6.2 is the first frame of the new path, still at the stop point; it is measured fast from
    # 6.4 on, which is confirmed (MOVE_CONFIRM_SECONDS = 0.5) at 7.0
    assert [round(h.timestamp, 1) for h in hits] == [5.0, 5.2, 5.4, 5.6, 5.8, 6.0, 6.2, 6.4, 6.6, 6.8]


@pytest.mark.parametrize(
    ("bad", "expected_first"),
    [
        pytest.param([4.0], (5.0, 3.0), id="one-bad-box"),
        pytest.param([4.0, 4.2], (5.0, 3.0), id="two-bad-boxes-0.2s-apart"),
        pytest.param([round(4.0 + 0.2 * i, 1) for i in range(26)], (7.0, 3.0), id="moved-and-stopped-again"),
    ],
)
def test_a_bad_box_on_a_parked_car_keeps_the_clock(
    bad: list[float], expected_first: tuple[float, float]
) -> None:
    """A crop cutting the vehicle or a bus passing in front shifts a box by 0.09: not a departure
    unless the shift lasts (then the vehicle moved, and its new stop has a new clock)."""
    shifted = {t: (p[0] + 0.09, p[1]) for t, p in arrive_and_stop(until=9.0) if p is not None and t in bad}
    steps = [(t, shifted.get(t, p)) for t, p in arrive_and_stop(until=9.0)]
    hits = run_path(engine(), steps, class_name="car")
    assert (hits[0].timestamp, hits[0].value) == tuple(pytest.approx(v) for v in expected_first)


@pytest.mark.parametrize(
    ("kmh", "max_speed", "stops"),
    [
        pytest.param(2.0, None, True, id="2kmh-below-default-3"),
        pytest.param(10.0, None, False, id="10kmh-moving"),
        pytest.param(10.0, 12.0, True, id="10kmh-below-configured-12"),
    ],
)
def test_calibrated_speeds_are_kmh(kmh: float, max_speed: float | None, stops: bool) -> None:
    units_per_s = kmh / 3.6 / 50.0
    rule = {} if max_speed is None else {"max_speed": max_speed}
    steps = moving(0, 6, 0.2, (0.35, 0.5), (units_per_s, 0))
    hits = run_path(engine(min_stopped=2.0, calibrated=True, **rule), steps, class_name="car")
    assert bool(hits) is stops
