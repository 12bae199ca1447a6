"""Alert lifecycle: turns rule hits into ``Alert`` messages (start → update* → end), with cooldown.

All timing uses frame stream time (``Frame.timestamp``); the wall-clock fields of the messages
come from ``Frame.wall_time``, so a replay of the same input gives the same messages.

STATE hits (intrusion, loitering), keyed by (rule, track):
- the first hit starts an alert (``start``, with a snapshot when a writer is configured);
- further hits send ``update`` at most every ``alerts.update_interval_seconds`` and only when the
  value changed;
- once no hit has arrived for ``alerts.end_after_seconds`` (checked on every step, and by
  ``expire`` when frames stop coming) the alert ends: ``end`` with ``ended_at`` = wall time of
  the last hit. A track that vanishes and comes back sooner continues the same alert;
- after an end, the same key stays quiet for the rule's ``cooldown_seconds`` (else the camera's
  ``alerts.cooldown_seconds``), counted from the step that ended it.

EVENT hits (line crossings), keyed by (rule, track, direction): each one is a single ``start``
message with ``ended_at == started_at``, then the key stays quiet for the cooldown.

Ids are ``{camera}-{rule}-{track}-{started_ms}`` (``zone`` for a hit about a whole zone, whose
alert has no ``track_id``), ``started_ms`` from the start frame's wall time.
If stream time goes backwards, every open alert is ended and cooldowns are forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from ioc.config.models import CameraConfig, RuleBase
from ioc.events.snapshot import SnapshotWriter
from ioc.events.text import describe
from ioc.messages import Alert, AlertState
from ioc.metrics import ALERTS
from ioc.types import ZONE_TRACK, Detections, Frame, HitKind, RuleHit

logger = logging.getLogger(__name__)

TIME_EPSILON = 1e-6

_NEXT: dict[AlertState, frozenset[AlertState]] = {
    AlertState.START: frozenset({AlertState.UPDATE, AlertState.END}),
    AlertState.UPDATE: frozenset({AlertState.UPDATE, AlertState.END}),
    AlertState.END: frozenset(),
}


def check_transition(current: AlertState, new: AlertState, alert_id: str) -> None:
    """Raise on an illegal alert state change (a bug, never user input)."""
    if new not in _NEXT[current]:
        raise RuntimeError(f"alert {alert_id}: illegal transition {current.value} → {new.value}")


@dataclass(frozen=True, slots=True)
class _Key:
    rule_id: str
    track_id: int
    direction: str | None = None


@dataclass(frozen=True, slots=True)
class _Open:
    """An open STATE alert: the last message sent and when its condition last held."""

    last: Alert
    hit: RuleHit
    last_hit_ts: float
    last_hit_wall: float
    last_message_ts: float


def _utc(wall_time: float) -> datetime:
    return datetime.fromtimestamp(wall_time, tz=UTC)


class AlertLifecycle:
    """Open alerts and cooldowns of one camera; owned by that camera's worker thread."""

    def __init__(self, camera: CameraConfig, snapshots: SnapshotWriter | None) -> None:
        self._camera = camera
        self._snapshots = snapshots
        self._rules: dict[str, RuleBase] = {r.id: r for r in camera.rules}
        self._open: dict[_Key, _Open] = {}
        self._quiet_until: dict[_Key, float] = {}
        self._last_ts: float | None = None

    @property
    def open_count(self) -> int:
        return len(self._open)

    def step(self, hits: list[RuleHit], frame: Frame, dets: Detections) -> list[Alert]:
        """Messages caused by this frame's hits and by the passage of time up to it."""
        ts = frame.timestamp
        out: list[Alert] = []
        if self._last_ts is not None and ts < self._last_ts:
            logger.warning(
                "camera %s: stream time went back from %.3f to %.3f s; ending open alerts",
                self._camera.id,
                self._last_ts,
                ts,
            )
            out.extend(self.flush(frame))
            self._quiet_until.clear()
        self._last_ts = ts
        out.extend(self.expire(ts, frame.wall_time))
        for hit in hits:
            msg = (
                self._on_event(hit, frame, dets)
                if hit.kind is HitKind.EVENT
                else self._on_state(hit, frame, dets)
            )
            if msg is not None:
                out.append(msg)
        self._quiet_until = {k: t for k, t in self._quiet_until.items() if t > ts}
        return out

    def flush(self, frame: Frame) -> list[Alert]:
        """End every open alert now (end of file, shutdown)."""
        return [self._end(key, frame.timestamp, frame.wall_time) for key in list(self._open)]

    def reconfigure(self, camera: CameraConfig, kept: Collection[str], frame: Frame | None) -> list[Alert]:
        """Follow a new config of this camera (hot reload): open alerts and cooldowns of the rules
        in ``kept`` carry on; every other rule's open alerts end now, at ``frame`` (the last one
        processed), and its cooldowns are forgotten."""
        gone = [key for key in self._open if key.rule_id not in kept]
        out = [self._end(key, frame.timestamp, frame.wall_time) for key in gone] if frame is not None else []
        self._open = {k: o for k, o in self._open.items() if k.rule_id in kept}
        self._quiet_until = {k: t for k, t in self._quiet_until.items() if k.rule_id in kept}
        self._camera = camera
        self._rules = {r.id: r for r in camera.rules}
        return out

    def expire(self, timestamp: float, wall_time: float) -> list[Alert]:
        """End the open alerts whose condition has not held for ``alerts.end_after_seconds`` by
        stream time ``timestamp`` (Unix ``wall_time``). ``step`` does this on every frame; the
        worker also calls it when frames stop coming (camera down), so no alert stays open."""
        end_after = self._camera.alerts.end_after_seconds
        stale = [k for k, o in self._open.items() if timestamp - o.last_hit_ts + TIME_EPSILON >= end_after]
        return [self._end(key, timestamp, wall_time) for key in stale]

    # -- state alerts ---------------------------------------------------------------------------

    def _on_state(self, hit: RuleHit, frame: Frame, dets: Detections) -> Alert | None:
        key = _Key(hit.rule_id, hit.track_id)
        current = self._open.get(key)
        if current is None:
            if self._quiet(key, frame.timestamp):
                return None
            alert = self._start(hit, frame, dets, ended=False)
            self._open[key] = _Open(alert, hit, frame.timestamp, frame.wall_time, frame.timestamp)
            return alert
        current = replace(current, hit=hit, last_hit_ts=frame.timestamp, last_hit_wall=frame.wall_time)
        interval = self._camera.alerts.update_interval_seconds
        due = frame.timestamp - current.last_message_ts + TIME_EPSILON >= interval
        if not due or hit.value == current.last.value:
            self._open[key] = current
            return None
        alert = self._follow_up(current, hit, AlertState.UPDATE, frame.wall_time)
        self._open[key] = replace(current, last=alert, last_message_ts=frame.timestamp)
        return alert

    def _end(self, key: _Key, timestamp: float, wall_time: float) -> Alert:
        current = self._open.pop(key)
        alert = self._follow_up(current, current.hit, AlertState.END, wall_time)
        self._quiet_until[key] = timestamp + self._cooldown(key.rule_id)
        return alert

    def _follow_up(self, current: _Open, hit: RuleHit, state: AlertState, wall_time: float) -> Alert:
        check_transition(current.last.state, state, current.last.id)
        alert = current.last.model_copy(
            update={
                "state": state,
                "updated_at": _utc(wall_time),
                "ended_at": _utc(current.last_hit_wall) if state is AlertState.END else None,
                "confidence": hit.confidence,
                "bbox": hit.bbox,
                "value": hit.value,
                "value_unit": hit.value_unit,
                "message": describe(self._camera, hit, state),
            }
        )
        return self._count(alert)

    # -- event alerts ---------------------------------------------------------------------------

    def _on_event(self, hit: RuleHit, frame: Frame, dets: Detections) -> Alert | None:
        key = _Key(hit.rule_id, hit.track_id, hit.direction)
        if self._quiet(key, frame.timestamp):
            return None
        self._quiet_until[key] = frame.timestamp + self._cooldown(hit.rule_id)
        return self._start(hit, frame, dets, ended=True)

    # -- shared ---------------------------------------------------------------------------------

    def _quiet(self, key: _Key, ts: float) -> bool:
        until = self._quiet_until.get(key)
        return until is not None and ts + TIME_EPSILON < until

    def _rule(self, rule_id: str) -> RuleBase:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise ValueError(
                f"camera {self._camera.id!r}: hit for unknown rule {rule_id!r}; "
                f"configured: {sorted(self._rules)}"
            )
        return rule

    def _cooldown(self, rule_id: str) -> float:
        rule = self._rule(rule_id)
        if rule.cooldown_seconds is not None:
            return rule.cooldown_seconds
        return self._camera.alerts.cooldown_seconds

    def _start(self, hit: RuleHit, frame: Frame, dets: Detections, *, ended: bool) -> Alert:
        rule = self._rule(hit.rule_id)
        started_ms = round(frame.wall_time * 1000)
        subject = "zone" if hit.track_id == ZONE_TRACK else str(hit.track_id)
        alert_id = f"{self._camera.id}-{hit.rule_id}-{subject}-{started_ms}"
        url = None
        if self._snapshots is not None:
            url = self._snapshots.write(frame, dets, self._camera, hit, alert_id, AlertState.START.value)
        at = _utc(frame.wall_time)
        alert = Alert(
            id=alert_id,
            camera_id=self._camera.id,
            rule_id=hit.rule_id,
            rule_type=hit.rule_type,
            state=AlertState.START,
            severity=rule.severity,
            category=self._camera.alert_category,
            started_at=at,
            updated_at=at,
            ended_at=at if ended else None,
            track_id=None if hit.track_id == ZONE_TRACK else hit.track_id,
            object_class=hit.object_class,
            confidence=hit.confidence,
            bbox=hit.bbox,
            zone_id=hit.zone_id,
            line_id=hit.line_id,
            direction=_direction(hit.direction),
            value=hit.value,
            value_unit=hit.value_unit,
            snapshot_url=url,
            message=describe(self._camera, hit, AlertState.START),
        )
        return self._count(alert)

    def _count(self, alert: Alert) -> Alert:
        ALERTS.labels(camera=alert.camera_id, rule=alert.rule_id, state=alert.state.value).inc()
        return alert


def _direction(direction: str | None) -> Literal["in", "out"] | None:
    if direction is None:
        return None
    if direction == "in":
        return "in"
    if direction == "out":
        return "out"
    raise ValueError(f"line crossing direction must be 'in' or 'out', got {direction!r}")
