"""Perception scenarios with exact ground truth (issue: perception core), at the default settings.

- ``PARKED``: a bus (140×89 px in a 768×576 frame, too small to score at imgsz 320 on the whole
  frame) drives in, stands 20 s in a no-stopping zone, drives off.
- ``WANDER``: a person wanders 18 s in a plaza while another walker crosses right in front of them.
- ``DISPERSE``: seven people stand in a restricted square, then walk off in every direction.
- ``REENTRY``: a person enters a restricted yard, leaves, waits in view, and comes back 20 s later.
"""

from __future__ import annotations

from ioc.geometry import Point
from ioc.pipeline.footage import Script, walk

FPS = 10
W, H = 768, 576

NO_STOPPING: tuple[Point, ...] = ((0.45, 0.6), (0.8, 0.6), (0.8, 0.92), (0.45, 0.92))
PARKED_DWELL_SECONDS = 10.0
PARKED = Script(
    width=W,
    height=H,
    fps=FPS,
    duration_seconds=30.0,
    actors=(walk("bus", 0.155, [(0.0, 1.15, 0.8), (4.0, 0.62, 0.8), (24.0, 0.62, 0.8), (28.0, -0.2, 0.8)]),),
)

PLAZA: tuple[Point, ...] = ((0.25, 0.55), (0.75, 0.55), (0.75, 1.0), (0.25, 1.0))
WANDER_DWELL_SECONDS = 8.0
WANDER = Script(
    width=W,
    height=H,
    fps=FPS,
    duration_seconds=26.0,
    actors=(
        walk("suit", 0.34, [
            (0.0, -0.08, 0.8), (3.0, 0.4, 0.8), (6.0, 0.55, 0.78), (9.0, 0.45, 0.8), (12.0, 0.5, 0.82),
            (15.0, 0.58, 0.8), (18.0, 0.46, 0.79), (21.0, 0.5, 0.8), (25.0, 1.1, 0.8),
        ]),
        walk("walker", 0.38, [(8.0, 1.08, 0.9), (14.0, -0.08, 0.9)]),  # in front of her at ~t 10.6
    ),
)

SQUARE: tuple[Point, ...] = ((0.1, 0.45), (0.9, 0.45), (0.9, 0.95), (0.1, 0.95))
DISPERSE_STARTS = (0.16, 0.26, 0.36, 0.46, 0.56, 0.66, 0.76)


def _away(i: int, x: float) -> tuple[float, float, float]:
    """Where person ``i`` (standing at ``x``) is at t 12: off the frame to their side, rows apart."""
    side = -1.0 if x < 0.46 else 1.0
    return (12.0, x + side * (0.7 + 0.05 * i), 0.8 + 0.02 * (i % 3))


DISPERSE = Script(
    width=W,
    height=H,
    fps=FPS,
    duration_seconds=14.0,
    actors=tuple(
        walk("walker" if i % 2 else "suit", 0.3, [(0.0, x, 0.78), (4.0, x, 0.78), _away(i, x)])
        for i, x in enumerate(DISPERSE_STARTS)
    ),
)

YARD: tuple[Point, ...] = ((0.55, 0.5), (0.95, 0.5), (0.95, 0.98), (0.55, 0.98))
REENTRY = Script(
    width=W,
    height=H,
    fps=FPS,
    duration_seconds=34.0,
    actors=(
        walk("walker", 0.36, [
            (0.0, 0.1, 0.85), (3.0, 0.75, 0.85), (5.0, 0.75, 0.85), (7.0, 0.3, 0.85),
            (27.0, 0.3, 0.85), (29.0, 0.75, 0.85), (31.0, 0.75, 0.85), (33.0, 0.3, 0.85),
        ]),  # out of the yard from ~t 6 to ~t 28: 22 s
    ),
)


def polygon(points: tuple[Point, ...]) -> str:
    return "[" + ", ".join(f"[{x}, {y}]" for x, y in points) + "]"


def parked_yaml(source: str) -> str:
    return f"""
cameras:
  - id: scene
    source: {source}
    zones:
      - {{id: no-stopping, polygon: {polygon(NO_STOPPING)}}}
    rules:
      - {{id: parked, type: loitering, zone: no-stopping, classes: [car, bus, truck],
         min_dwell_seconds: {PARKED_DWELL_SECONDS}}}
"""


def people_yaml(source: str, zone: tuple[Point, ...], rule: str) -> str:
    return f"""
cameras:
  - id: scene
    source: {source}
    zones:
      - {{id: area, polygon: {polygon(zone)}}}
    rules:
      - {rule}
"""
