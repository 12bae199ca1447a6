"""Traffic flows: every ``line_crossing`` rule's crossings, counted per class and direction per interval.

Built in the camera worker from the rules' EVENT hits (``rule_type == "line_crossing"``), so a
flow counts exactly what the rule counts: one crossing per track and direction under the rule's
hysteresis and cooldown, in the directions the rule reports (``directions``).

Exact behaviour, per rule:

1. Intervals are aligned to multiples of ``interval_seconds`` in Unix time, taken from the frame's
   ``wall_time`` (capture time live; ``--start-time`` + file time in a replay). A crossing belongs
   to the interval its frame's wall time falls in: ``[start, start + interval)``.
2. An interval is reported (one ``FlowCount``) when the first frame of a later interval arrives,
   and at ``flush`` (end of file, shutdown, the rule changed or went away). Intervals in which no
   frame arrived are not reported: nobody watched them, so zero would be a lie.
3. ``started_at``/``ended_at`` are the watched part: the interval's start, or the first frame's
   wall time when counting began inside it; its end, or the last frame's wall time at a flush.
   ``partial`` says the watched part is shorter than the interval.
4. Silence: a healthy camera delivers a frame at least every ``detect.recheck_seconds``. When no
   frame came for longer than ``max(detect.recheck_seconds, alerts.end_after_seconds) + 1`` s
   (the worker's idle limit), or wall time went backwards (a clock was reset), the watched part
   ends at the last frame before and a new one starts at the frame after (both partial).
5. Each count carries the mean of the crossings' ``speed_kmh`` (None when none had one).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ioc.config.models import CameraConfig, LineCrossingRule
from ioc.messages import FlowBucket, FlowCount
from ioc.types import Frame, HitKind, RuleHit

LINE_CROSSING = "line_crossing"
TIME_EPSILON = 1e-6

_Key = tuple[str, str]  # object class, direction


def interval_start(wall_time: float, interval_seconds: float) -> float:
    """The aligned start of the interval ``wall_time`` falls in."""
    return math.floor(wall_time / interval_seconds + TIME_EPSILON) * interval_seconds


@dataclass(slots=True)
class _Bucket:
    start: float  # aligned interval start
    watched_from: float
    watched_to: float
    counts: Counter[_Key] = field(default_factory=Counter)
    speed_sum: dict[_Key, float] = field(default_factory=dict)
    speed_samples: Counter[_Key] = field(default_factory=Counter)

    def add(self, hit: RuleHit) -> None:
        key = (hit.object_class, hit.direction or "in")
        self.counts[key] += 1
        if hit.speed_kmh is not None:
            self.speed_sum[key] = self.speed_sum.get(key, 0.0) + hit.speed_kmh
            self.speed_samples[key] += 1

    def buckets(self) -> tuple[FlowBucket, ...]:
        out = []
        for key in sorted(self.counts):
            samples = self.speed_samples[key]
            mean = round(self.speed_sum[key] / samples, 2) if samples else None
            out.append(
                FlowBucket(
                    object_class=key[0],
                    direction="out" if key[1] == "out" else "in",
                    count=self.counts[key],
                    mean_speed_kmh=mean,
                    speed_samples=samples,
                )
            )
        return tuple(out)


class LineFlow:
    """The flow of one ``line_crossing`` rule."""

    def __init__(self, camera: CameraConfig, rule: LineCrossingRule) -> None:
        self._camera = camera
        self._rule = rule
        self._line = camera.line(rule.line)
        self._interval = rule.interval_seconds
        self._max_silence = max(camera.detect.recheck_seconds, camera.alerts.end_after_seconds) + 1.0
        self._bucket: _Bucket | None = None

    def same_as(self, camera: CameraConfig, rule: LineCrossingRule) -> bool:
        """True when ``rule`` on ``camera`` counts exactly what this flow counts."""
        return rule == self._rule and camera.line(rule.line) == self._line

    def retarget(self, camera: CameraConfig) -> None:
        """Report under ``camera`` from now on (its name or category may have changed)."""
        self._camera = camera

    def step(self, hits: Iterable[RuleHit], frame: Frame) -> list[FlowCount]:
        """Count this frame's crossings of this rule; return the intervals this frame closed."""
        now = frame.wall_time
        out: list[FlowCount] = []
        bucket = self._bucket
        went_back = now + TIME_EPSILON < bucket.watched_to if bucket is not None else False
        silent = now - bucket.watched_to > self._max_silence if bucket is not None else False
        if bucket is not None and (went_back or silent):
            out.append(self._report(bucket, end=bucket.watched_to))  # nobody watched what follows
            bucket = None
        start = interval_start(now, self._interval)
        if bucket is not None and start > bucket.start + TIME_EPSILON:
            out.append(self._report(bucket, end=bucket.start + self._interval))
            bucket = _Bucket(start, start, now)
        if bucket is None:
            bucket = _Bucket(start, now, now)
        bucket.watched_to = now
        for hit in hits:
            if hit.rule_id == self._rule.id and hit.kind is HitKind.EVENT:
                bucket.add(hit)
        self._bucket = bucket
        return out

    def flush(self) -> list[FlowCount]:
        """Report the open interval as far as it was watched."""
        bucket, self._bucket = self._bucket, None
        return [] if bucket is None else [self._report(bucket, end=bucket.watched_to)]

    def _report(self, bucket: _Bucket, *, end: float) -> FlowCount:
        watched = end - bucket.watched_from
        return FlowCount(
            camera_id=self._camera.id,
            category=self._camera.alert_category,
            rule_id=self._rule.id,
            line_id=self._rule.line,
            interval_seconds=self._interval,
            started_at=_utc(bucket.watched_from),
            ended_at=_utc(end),
            partial=watched + TIME_EPSILON < self._interval,
            counts=bucket.buckets(),
        )


class FlowCounter:
    """The flows of every enabled ``line_crossing`` rule of one camera (owned by its worker)."""

    def __init__(self, camera: CameraConfig) -> None:
        self._flows: dict[str, LineFlow] = {}
        self.reconfigure(camera)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(self._flows)

    def step(self, hits: list[RuleHit], frame: Frame) -> list[FlowCount]:
        crossings = [h for h in hits if h.rule_type == LINE_CROSSING and h.kind is HitKind.EVENT]
        out: list[FlowCount] = []
        for flow in self._flows.values():
            out.extend(flow.step(crossings, frame))
        return out

    def flush(self) -> list[FlowCount]:
        out: list[FlowCount] = []
        for flow in self._flows.values():
            out.extend(flow.flush())
        return out

    def reconfigure(self, camera: CameraConfig) -> list[FlowCount]:
        """Follow a new camera config: flows of unchanged rules go on counting; the open interval
        of a rule that changed or went away is reported (partial) and its counting restarts."""
        wanted = {r.id: r for r in camera.rules if isinstance(r, LineCrossingRule) and r.enabled}
        out: list[FlowCount] = []
        flows: dict[str, LineFlow] = {}
        for rule_id, flow in self._flows.items():
            rule = wanted.get(rule_id)
            if rule is not None and flow.same_as(camera, rule):
                flow.retarget(camera)
                flows[rule_id] = flow
            else:
                out.extend(flow.flush())
        self._flows = {
            rule_id: flows.get(rule_id) or LineFlow(camera, rule) for rule_id, rule in wanted.items()
        }
        return out


def _utc(wall_time: float) -> datetime:
    return datetime.fromtimestamp(wall_time, tz=UTC)
