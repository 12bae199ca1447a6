"""What changed between two validated configs, camera by camera: the plan of a hot reload.

Only enabled cameras run, so a camera switched off counts as removed and one switched on as added.
For a camera in both configs:

- ``reconnect``: its ``source`` or ``loop`` changed; its reader restarts (the other cameras'
  readers are not touched).
- ``detector``: ``detect.model`` or ``detect.iou`` changed; it moves to another shared detector.
- ``tracker``: ``track`` or ``detect.fps`` changed; its tracker starts afresh (new track ids).
- rules: a rule is *kept* (its per-track state and open alerts carry on) when its own settings,
  the zone or line it names, and the camera settings every rule reads (``detect.classes``,
  ``track``, ``alerts``, and ``masks``/``calibration`` where the config has them) are all equal;
  every other rule of the camera is rebuilt (its open alerts end, its flow interval is reported).

``summary()`` is the one-line-per-change text logged with who made the change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ioc.config.models import CameraConfig, IocConfig, RuleBase

RULE_CONTEXT_FIELDS = ("masks", "calibration")
"""Camera fields that rules may read besides detect.classes, track and alerts (when present)."""


class Change(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class CameraDiff:
    camera_id: str
    change: Change
    reconnect: bool = False
    detector: bool = False
    tracker: bool = False
    fields: tuple[str, ...] = ()  # top-level camera fields that differ
    rules_added: tuple[str, ...] = ()
    rules_removed: tuple[str, ...] = ()
    rules_changed: tuple[str, ...] = ()
    rules_kept: frozenset[str] = frozenset()

    def describe(self) -> str:
        if self.change is not Change.CHANGED:
            return f"camera {self.camera_id}: {self.change.value}"
        parts = []
        if self.reconnect:
            parts.append("source changed (reconnect)")
        if self.detector:
            parts.append("detector changed")
        if self.tracker:
            parts.append("tracker restarted")
        for label, ids in (
            ("rules added", self.rules_added),
            ("rules removed", self.rules_removed),
            ("rules changed", self.rules_changed),
        ):
            if ids:
                parts.append(f"{label}: {', '.join(ids)}")
        other = [f for f in self.fields if f not in ("source", "loop", "rules")]
        if other:
            parts.append(f"settings changed: {', '.join(other)}")
        return f"camera {self.camera_id}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    cameras: tuple[CameraDiff, ...] = ()
    other: tuple[str, ...] = field(default=())  # top-level sections that differ (site, retention)

    def of(self, change: Change) -> tuple[CameraDiff, ...]:
        return tuple(c for c in self.cameras if c.change is change)

    @property
    def empty(self) -> bool:
        return not self.other and all(c.change is Change.UNCHANGED for c in self.cameras)

    def summary(self) -> list[str]:
        lines = [c.describe() for c in self.cameras if c.change is not Change.UNCHANGED]
        lines.extend(f"{name} changed" for name in self.other)
        return lines or ["no change"]


def diff_configs(old: IocConfig, new: IocConfig) -> ConfigDiff:
    before = {c.id: c for c in old.cameras if c.enabled}
    after = {c.id: c for c in new.cameras if c.enabled}
    diffs: list[CameraDiff] = []
    for camera_id in [*before, *(i for i in after if i not in before)]:
        if camera_id not in after:
            diffs.append(CameraDiff(camera_id, Change.REMOVED))
        elif camera_id not in before:
            diffs.append(CameraDiff(camera_id, Change.ADDED))
        else:
            diffs.append(diff_camera(before[camera_id], after[camera_id]))
    other = tuple(name for name in ("site", "retention") if getattr(old, name) != getattr(new, name))
    return ConfigDiff(tuple(diffs), other)


def diff_camera(old: CameraConfig, new: CameraConfig) -> CameraDiff:
    if old == new:
        return CameraDiff(old.id, Change.UNCHANGED, rules_kept=frozenset(r.id for r in new.rules))
    fields = tuple(name for name in type(new).model_fields if getattr(old, name) != getattr(new, name))
    old_rules = {r.id: r for r in old.rules if r.enabled}
    new_rules = {r.id: r for r in new.rules if r.enabled}
    kept = frozenset(i for i in new_rules if i in old_rules and rule_unchanged(old, new, i))
    return CameraDiff(
        new.id,
        Change.CHANGED,
        reconnect=old.source != new.source or old.loop != new.loop,
        detector=(old.detect.model, old.detect.iou) != (new.detect.model, new.detect.iou),
        tracker=old.track != new.track
        or (old.detect.fps, old.detect.stationary_seconds) != (new.detect.fps, new.detect.stationary_seconds),
        fields=fields,
        rules_added=tuple(i for i in new_rules if i not in old_rules),
        rules_removed=tuple(i for i in old_rules if i not in new_rules),
        rules_changed=tuple(i for i in new_rules if i in old_rules and i not in kept),
        rules_kept=kept,
    )


def rule_unchanged(old: CameraConfig, new: CameraConfig, rule_id: str) -> bool:
    """The rule, what it references and the camera settings it reads are all equal."""
    before = _rule(old, rule_id)
    after = _rule(new, rule_id)
    if before is None or after is None or before != after:
        return False
    return _rule_context(old, before) == _rule_context(new, after)


def _rule(camera: CameraConfig, rule_id: str) -> RuleBase | None:
    return next((r for r in camera.rules if r.id == rule_id), None)


def _rule_context(camera: CameraConfig, rule: RuleBase) -> dict[str, Any]:
    context: dict[str, Any] = {
        "classes": camera.detect.classes,
        "track": camera.track,
        "alerts": camera.alerts,
    }
    for name in RULE_CONTEXT_FIELDS:
        context[name] = getattr(camera, name, None)
    zone_id = getattr(rule, "zone", None)
    if isinstance(zone_id, str):
        context["zone"] = next((z for z in camera.zones if z.id == zone_id), None)
    line_id = getattr(rule, "line", None)
    if isinstance(line_id, str):
        context["line"] = next((ln for ln in camera.lines if ln.id == line_id), None)
    return context
