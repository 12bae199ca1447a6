"""Hot reload inside one camera worker: what a new config of the camera keeps and what it rebuilds.

Runs on the worker's owner thread, between two frames, so no frame of this camera is lost and no
other camera is touched. Given the old and new ``CameraConfig`` of the camera
(``ioc.pipeline.config_diff`` decides which rules are unchanged):

- rules: a new ``RuleEngine`` that takes over the rule objects, with their per-track state
  (dwell times, crossing sides, cooldowns), of the unchanged rules;
- alerts: the lifecycle carries on with the open alerts and cooldowns of the unchanged rules; the
  open alerts of changed and removed rules end at the last processed frame;
- flows: unchanged ``line_crossing`` rules go on counting their interval; the interval of a
  changed or removed one is reported (partial);
- tracker: kept, unless ``track`` or ``detect.fps`` changed (then a fresh one with new track ids,
  and no rule keeps its state: old track ids would mean other objects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from ioc.config.models import CameraConfig
from ioc.events.lifecycle import AlertLifecycle
from ioc.messages import Alert, FlowCount
from ioc.pipeline.config_diff import diff_camera
from ioc.pipeline.flows import FlowCounter
from ioc.rules.engine import RuleEngine
from ioc.track.tracker import Tracker
from ioc.types import Frame


@dataclass(frozen=True, slots=True)
class Rebuilt:
    tracker: Tracker
    rules: RuleEngine
    alerts: list[Alert]  # end messages of the alerts of changed or removed rules
    flows: list[FlowCount]  # reported intervals of changed or removed line_crossing rules


def rebuild(
    old: CameraConfig,
    new: CameraConfig,
    tracker: Tracker,
    rules: RuleEngine,
    lifecycle: AlertLifecycle,
    flows: FlowCounter,
    last_frame: Frame | None,
    tz: tzinfo = UTC,
) -> Rebuilt:
    """Switch ``lifecycle`` and ``flows`` to ``new`` (in place) and return the new tracker and rules
    (whose schedules read ``tz``, the site's time zone)."""
    diff = diff_camera(old, new)
    kept = frozenset() if diff.tracker else diff.rules_kept  # new track ids mean nothing to old state
    engine = RuleEngine(new, tz)
    engine.keep(rules, kept)
    ended = lifecycle.reconfigure(new, kept, last_frame)
    reported = flows.reconfigure(new)
    fresh_tracker = (
        Tracker(new.track, new.detect.fps, new.detect.stationary_seconds) if diff.tracker else tracker
    )
    return Rebuilt(fresh_tracker, engine, ended, reported)
