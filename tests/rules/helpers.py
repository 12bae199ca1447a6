"""Drive a rule engine through a scripted track path (shared by the rule tests)."""

from __future__ import annotations

from collections.abc import Sequence

from ioc.rules import RuleEngine
from ioc.types import Detections, RuleHit
from tests.factories import make_detections

Step = tuple[float, tuple[float, float] | None]


def run_path(
    engine: RuleEngine, steps: Sequence[Step], track_id: int = 7, **det_kwargs: object
) -> list[RuleHit]:
    """One track following ``steps`` (timestamp, anchor or None = not detected)."""
    hits: list[RuleHit] = []
    for t, anchor in steps:
        dets = (
            Detections.empty()
            if anchor is None
            else make_detections(
                anchors=[anchor],
                tracker_id=[track_id],
                **det_kwargs,  # type: ignore[arg-type]
            )
        )
        hits.extend(engine.evaluate(dets, t))
    return hits


def moving(
    t0: float,
    t1: float,
    dt: float,
    start: tuple[float, float],
    velocity: tuple[float, float],
    *,
    missing: Sequence[float] = (),
) -> list[Step]:
    """A straight path at constant ``velocity`` (normalised units/s) sampled every ``dt`` seconds
    from ``t0`` to ``t1`` inclusive; timestamps in ``missing`` are frames the detector missed."""
    n = round((t1 - t0) / dt)
    steps: list[Step] = []
    for i in range(n + 1):
        t = round(t0 + i * dt, 6)
        point = (start[0] + velocity[0] * (t - t0), start[1] + velocity[1] * (t - t0))
        steps.append((t, None if any(abs(t - m) < 1e-9 for m in missing) else point))
    return steps


def still(t0: float, t1: float, dt: float, at: tuple[float, float], jitter: float = 0.0) -> list[Step]:
    """Standing at ``at`` from ``t0`` to ``t1``; ``jitter`` alternates ±x, ±y like a flickering box."""
    n = round((t1 - t0) / dt)
    sign = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    return [
        (round(t0 + i * dt, 6), (at[0] + jitter * sign[i % 4][0], at[1] + jitter * sign[i % 4][1]))
        for i in range(n + 1)
    ]


def run_frames(engine: RuleEngine, frames: Sequence[tuple[float, Detections]]) -> list[RuleHit]:
    """Several tracks per frame: ``frames`` of (timestamp, detections)."""
    hits: list[RuleHit] = []
    for t, dets in frames:
        hits.extend(engine.evaluate(dets, t))
    return hits
