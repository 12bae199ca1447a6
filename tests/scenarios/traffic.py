"""Scripted traffic and crowd scenes with exact ground truth, for the rule-library scenario tests.

A bus (cut out of Ultralytics' ``bus.jpg``) drives along a calibrated road: image x maps to
``METRES_PER_X`` metres, so every scripted speed is known in km/h. Expected values are computed
from the scripts themselves.
"""

from __future__ import annotations

import numpy as np

from ioc.geometry import Point, points_in_polygon
from ioc.pipeline.footage import Script, walk

METRES_PER_X = 40.0
CALIBRATION = {
    "image_points": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
    "world_points": [[0.0, 0.0], [METRES_PER_X, 0.0], [METRES_PER_X, 10.0], [0.0, 10.0]],
}
SPEED_LIMIT_KMH = 35.0


def kmh(dx: float, seconds: float) -> float:
    return abs(dx) / seconds * METRES_PER_X * 3.6


# A drives right (the allowed way) at 40.3 km/h; B drives left (wrong way) at 28.8 km/h, starting
# where A left the picture 2 s later (longer than lost_track_seconds: a new object, not A again).
ROAD = Script(
    width=640,
    height=480,
    fps=10,
    duration_seconds=8.5,
    actors=(
        walk("bus", 0.3, [(0.0, 0.15, 0.9), (2.5, 0.85, 0.9)]),
        walk("bus", 0.3, [(4.5, 0.85, 0.9), (8.0, 0.15, 0.9)]),
    ),
)
BUS_A_KMH = kmh(0.7, 2.5)
BUS_B_KMH = kmh(0.7, 3.5)

# C drives in, stops 20 s in the no-stopping zone, drives off; D passes in the far lane meanwhile.
STOP_AT, GO_AT = 2.0, 22.0
NO_STOPPING = ((0.3, 0.4), (0.7, 0.4), (0.7, 1.0), (0.3, 1.0))
STOP = Script(
    width=640,
    height=480,
    fps=5,
    duration_seconds=25.0,
    actors=(
        walk("bus", 0.3, [(0.0, 0.15, 0.95), (STOP_AT, 0.5, 0.95), (GO_AT, 0.5, 0.95), (24.0, 0.85, 0.95)]),
        walk("bus", 0.15, [(5.0, 0.1, 0.6), (9.0, 0.9, 0.6)]),
    ),
)

# Six people walk into the square, stand, and walk out again.
SQUARE = ((0.1, 0.6), (0.95, 0.6), (0.95, 1.0), (0.1, 1.0))
_SPRITES = ("walker", "suit", "coach")
CROWD = Script(
    width=640,
    height=480,
    fps=5,
    duration_seconds=16.0,
    actors=tuple(
        [
            walk(
                _SPRITES[i],
                0.28,
                [(i * 0.8, -0.08, 0.95), (3.0 + i * 0.8, x, 0.95), (10.0, x, 0.95), (13.0, x - 0.6, 0.95)],
            )
            for i, x in enumerate((0.5, 0.35, 0.2))
        ]
        + [
            walk(
                _SPRITES[i],
                0.24,
                [(i * 0.8, 1.08, 0.72), (3.0 + i * 0.8, x, 0.72), (10.0, x, 0.72), (13.0, x + 0.6, 0.72)],
            )
            for i, x in enumerate((0.55, 0.7, 0.85))
        ]
    ),
)


def count_inside(script: Script, zone: tuple[Point, ...], t: float) -> int:
    anchors = [a for actor in script.actors if (a := actor.anchor_at(t)) is not None]
    if not anchors:
        return 0
    return int(points_in_polygon(zone, np.asarray(anchors, dtype=np.float32)).sum())


def crowd_span(script: Script, zone: tuple[Point, ...], min_count: int) -> tuple[float, float]:
    """First and last frame time with at least ``min_count`` anchors inside ``zone``."""
    times = [t for t in script.times() if count_inside(script, zone, t) >= min_count]
    return times[0], times[-1]


def polygon_yaml(points: tuple[Point, ...]) -> str:
    return "[" + ", ".join(f"[{x}, {y}]" for x, y in points) + "]"
