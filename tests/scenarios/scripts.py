"""Scripted scenarios with exact ground truth: who is where, when (from ``ioc.pipeline.footage``).

Expected times are computed from the scripts themselves, on the frame times of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ioc.geometry import Point, points_in_polygon, side_of_line
from ioc.pipeline.footage import Actor, Script, walk

FPS = 10
LINE = ((0.5, 0.95), (0.5, 0.3))  # a -> b upward: walking right is "in"
PLAZA = ((0.3, 0.6), (0.7, 0.6), (0.7, 1.0), (0.3, 1.0))
MIN_DWELL_SECONDS = 4.0

# One person walks left to right, then another right to left, each crossing the line once.
CROSSING = Script(
    width=640,
    height=480,
    fps=FPS,
    duration_seconds=12.0,
    actors=(
        walk("walker", 0.38, [(0.0, -0.1, 0.85), (6.0, 1.1, 0.85)]),
        walk("coach", 0.40, [(6.0, 1.1, 0.8), (12.0, -0.1, 0.8)]),
    ),
)

# One person walks into the plaza, lingers there for five seconds, and walks out.
DWELL = Script(
    width=640,
    height=480,
    fps=FPS,
    duration_seconds=12.0,
    actors=(
        walk("suit", 0.36, [(0.0, -0.08, 0.88), (4.0, 0.45, 0.88), (9.0, 0.55, 0.86), (12.0, 1.08, 0.88)]),
    ),
)


@dataclass(frozen=True, slots=True)
class Crossing:
    t: float
    direction: str


def crossings(script: Script, line: tuple[Point, Point] = LINE) -> list[Crossing]:
    """Every change of side of each actor's anchor, at the frame times of the clip."""
    out: list[Crossing] = []
    for actor in script.actors:
        previous: float | None = None
        for t, anchor in _track(actor, script):
            side = float(np.sign(side_of_line(line[0], line[1], np.asarray([anchor], dtype=np.float32))[0]))
            if side == 0:
                continue  # on the line: the side is still the previous one
            if previous is not None and side != previous:
                out.append(Crossing(t, "in" if side > 0 else "out"))
            previous = side
    return sorted(out, key=lambda c: c.t)


def first_inside(script: Script, zone: tuple[Point, ...] = PLAZA) -> float:
    """Stream time of the first frame with an actor's anchor inside ``zone``."""
    for actor in script.actors:
        for t, anchor in _track(actor, script):
            if points_in_polygon(zone, np.asarray([anchor], dtype=np.float32))[0]:
                return t
    raise ValueError("no actor ever enters the zone")


def _track(actor: Actor, script: Script) -> list[tuple[float, Point]]:
    return [(t, a) for t in script.times() if (a := actor.anchor_at(t)) is not None]


def camera_yaml(camera_id: str, source: str) -> str:
    (ax, ay), (bx, by) = LINE
    plaza = ", ".join(f"[{x}, {y}]" for x, y in PLAZA)
    return f"""
cameras:
  - id: {camera_id}
    source: {source}
    detect: {{imgsz: 320, classes: [person], confidence: 0.4}}
    lines:
      - {{id: mid, points: [[{ax}, {ay}], [{bx}, {by}]]}}
    zones:
      - {{id: plaza, polygon: [{plaza}]}}
    rules:
      - {{id: count, type: line_crossing, line: mid}}
      - {{id: enter, type: intrusion, zone: plaza}}
      - {{id: linger, type: loitering, zone: plaza, min_dwell_seconds: {MIN_DWELL_SECONDS}}}
"""
