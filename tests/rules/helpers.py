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
