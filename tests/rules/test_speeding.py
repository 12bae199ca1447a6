from __future__ import annotations

import pytest

from ioc.geometry import homography, project
from ioc.rules import RuleEngine
from ioc.types import HitKind
from tests.factories import make_camera
from tests.rules.helpers import Step, run_path

# The example: a road 7 m wide and 22 m long, seen in perspective.
IMAGE = [(0.41, 0.52), (0.73, 0.50), (0.95, 0.88), (0.18, 0.93)]
WORLD = [(0.0, 0.0), (7.0, 0.0), (7.0, 22.0), (0.0, 22.0)]
TO_IMAGE = homography(WORLD, IMAGE)


def engine(max_kmh: float = 50.0, zone: str | None = "road") -> RuleEngine:
    spec = {"type": "speeding", "id": "speed", "zone": zone, "classes": ["car"], "max_kmh": max_kmh}
    camera = make_camera(
        zones=[{"id": "road", "polygon": ROAD}],
        rules=[spec],
        detect={"classes": ["car"]},
        calibration={"image_points": IMAGE, "world_points": WORLD},
    )
    return RuleEngine(camera)


def image_point(x_m: float, y_m: float) -> tuple[float, float]:
    mapped, _ = project(TO_IMAGE, [(x_m, y_m)])
    return float(mapped[0, 0]), float(mapped[0, 1])


ROAD = [image_point(x, y) for x, y in [(0.0, -60.0), (7.0, -60.0), (7.0, 22.0), (0.0, 22.0)]]  # 82 m


def drive(kmh: list[tuple[float, float]], times: list[float], lane_x: float = 3.5) -> list[Step]:
    """A car driving away up the road from 21 m at piecewise constant speeds ``kmh`` =
    [(from_t, km/h)], seen at ``times`` (anchors mapped exactly through the calibration)."""
    steps: list[Step] = []
    y, last_t = 21.0, times[0]
    for t in times:
        speed = [v for start, v in kmh if start <= last_t + 1e-9][-1]
        y -= speed / 3.6 * (t - last_t)
        last_t = t
        steps.append((t, image_point(lane_x, y)))
    return steps


def frames(t1: float, dt: float = 0.1, t0: float = 0.0) -> list[float]:
    return [round(t0 + i * dt, 6) for i in range(round((t1 - t0) / dt) + 1)]


@pytest.mark.parametrize(
    ("kmh", "times", "first"),
    [
        pytest.param([(0, 60.0)], frames(2.0), (1.5, 60.0), id="60-in-a-50-for-0.5s"),
        pytest.param([(0, 45.0)], frames(3.0), None, id="45-in-a-50"),
        pytest.param([(0, 60.0)], [0.0, 0.35, 0.5, 1.05, 1.1, 1.6], (1.6, 60.0), id="irregular-frames"),
        pytest.param([(0, 70.0)], [0.0, 0.1, 0.9, 1.0, 1.5], (1.5, 70.0), id="flicker-still-needs-1s"),
        pytest.param([(0, 30.0), (0.5, 80.0)], frames(1.6), (1.5, 80.0), id="speeds-up-mean-over-1s"),
    ],
)
def test_first_speeding_hit(
    kmh: list[tuple[float, float]], times: list[float], first: tuple[float, float] | None
) -> None:
    hits = run_path(engine(), drive(kmh, times), class_name="car")
    if first is None:
        assert hits == []
        return
    assert (hits[0].timestamp, hits[0].value) == (pytest.approx(first[0]), pytest.approx(first[1], abs=0.1))
    assert all(h.kind is HitKind.STATE and h.value_unit == "km/h" and h.zone_id == "road" for h in hits)


def test_hysteresis_slowing_just_below_the_limit() -> None:
    # 60 km/h, then 49 (above 50 - 2.5 = 47.5: still speeding), then 40 (no longer); whole view
    times = frames(6.0)
    hits = run_path(engine(zone=None), drive([(0, 60.0), (1.5, 49.0), (3.5, 40.0)], times), class_name="car")
    last = hits[-1].timestamp
    assert last == pytest.approx(3.6)  # 1 s mean at 3.6: 48.1; at 3.7: 47.2 < 47.5
    assert any(h.value == pytest.approx(49.0, abs=0.1) for h in hits)


def test_other_lane_and_speed_are_exact_across_the_view() -> None:
    for lane in (0.5, 6.5):
        hits = run_path(engine(zone=None), drive([(0, 90.0)], frames(1.5), lane_x=lane), class_name="car")
        assert {round(h.value or 0, 1) for h in hits} == {90.0}


def test_one_bad_box_does_not_make_a_speed() -> None:
    # a car at 40 km/h whose box jumps 6 m ahead on one frame (a crop cutting it) and back
    steps = drive([(0, 40.0)], frames(3.0))
    jumped = {1.5: image_point(3.5, 21.0 - 40 / 3.6 * 1.5 - 6.0)}
    hits = run_path(engine(zone=None), [(t, jumped.get(t, p)) for t, p in steps], class_name="car")
    assert hits == []
