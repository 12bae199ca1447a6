"""Which alerts appear, disappear or change between two runs on the same footage (``--compare``).

Alert messages are folded into *incidents*: one per alert id, from its ``start`` to its ``end``
(file time, ``source_time_s``; an instant event starts and ends at once). An old and a new
incident *match* when they have the same rule id, object class and direction and their times
overlap, each widened by ``tolerance_s`` on both sides. Matching is greedy, best pair first: the
same track id first, then the longer overlap, then the closer start. A matched pair *changed*
when its rule type or severity differ, its start or end moved by more than ``tolerance_s``, or
its value differs. Unmatched old incidents disappear; unmatched new ones appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ioc.messages import Alert, AlertState

TOLERANCE_SECONDS = 0.5
VALUE_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Incident:
    alert_id: str
    rule_id: str
    rule_type: str
    severity: str
    track_id: int | None
    object_class: str | None
    direction: str | None
    start_s: float
    end_s: float
    value: float | None = None
    value_unit: str | None = None

    def describe(self) -> str:
        who = " ".join(
            part
            for part in (
                self.object_class or "",
                f"track {self.track_id}" if self.track_id is not None else "",
                self.direction or "",
            )
            if part
        )
        return f"{self.start_s:.1f}–{self.end_s:.1f} s {self.rule_id} ({self.rule_type}) {who}".rstrip()


@dataclass(frozen=True, slots=True)
class Changed:
    old: Incident
    new: Incident
    what: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertDiff:
    appeared: tuple[Incident, ...] = ()
    disappeared: tuple[Incident, ...] = ()
    changed: tuple[Changed, ...] = ()
    same: tuple[tuple[Incident, Incident], ...] = field(default=())


def incidents(alerts: Iterable[Alert]) -> list[Incident]:
    """One incident per alert id, in order of start."""
    found: dict[str, Incident] = {}
    for alert in alerts:
        at = alert.source_time_s if alert.source_time_s is not None else alert.updated_at.timestamp()
        current = found.get(alert.id)
        if current is None:
            current = Incident(
                alert_id=alert.id,
                rule_id=alert.rule_id,
                rule_type=alert.rule_type,
                severity=alert.severity.value,
                track_id=alert.track_id,
                object_class=alert.object_class,
                direction=alert.direction,
                start_s=at,
                end_s=at,
            )
        end = at if alert.state is AlertState.END or alert.ended_at is not None else current.end_s
        found[alert.id] = _with(
            current, end_s=max(end, current.start_s), value=alert.value, unit=alert.value_unit
        )
    return sorted(found.values(), key=lambda i: (i.start_s, i.rule_id, i.alert_id))


def _with(incident: Incident, *, end_s: float, value: float | None, unit: str | None) -> Incident:
    return replace(
        incident,
        end_s=end_s,
        value=value if value is not None else incident.value,
        value_unit=unit or incident.value_unit,
    )


def compare(
    old: Sequence[Incident], new: Sequence[Incident], tolerance_s: float = TOLERANCE_SECONDS
) -> AlertDiff:
    scored = ((_score(o, n, tolerance_s), i, j) for i, o in enumerate(old) for j, n in enumerate(new))
    pairs = sorted(((score, i, j) for score, i, j in scored if score is not None), reverse=True)
    used_old: set[int] = set()
    used_new: set[int] = set()
    matched: list[tuple[Incident, Incident]] = []
    for _, i, j in pairs:
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        matched.append((old[i], new[j]))
    changed, same = [], []
    for o, n in sorted(matched, key=lambda p: p[0].start_s):
        what = differences(o, n, tolerance_s)
        if what:
            changed.append(Changed(o, n, what))
        else:
            same.append((o, n))
    return AlertDiff(
        appeared=tuple(n for j, n in enumerate(new) if j not in used_new),
        disappeared=tuple(o for i, o in enumerate(old) if i not in used_old),
        changed=tuple(changed),
        same=tuple(same),
    )


def _score(o: Incident, n: Incident, tol: float) -> tuple[int, float, float] | None:
    """None when the two cannot match; otherwise larger is better."""
    if (o.rule_id, o.object_class, o.direction) != (n.rule_id, n.object_class, n.direction):
        return None
    overlap = min(o.end_s, n.end_s) + tol - (max(o.start_s, n.start_s) - tol)
    if overlap < 0:
        return None
    same_track = int(o.track_id is not None and o.track_id == n.track_id)
    return (same_track, overlap, -abs(o.start_s - n.start_s))


def differences(o: Incident, n: Incident, tol: float = TOLERANCE_SECONDS) -> tuple[str, ...]:
    what = []
    if o.rule_type != n.rule_type:
        what.append(f"type {o.rule_type} → {n.rule_type}")
    if o.severity != n.severity:
        what.append(f"severity {o.severity} → {n.severity}")
    if abs(o.start_s - n.start_s) > tol:
        what.append(f"starts {o.start_s:.1f} → {n.start_s:.1f} s")
    if abs(o.end_s - n.end_s) > tol:
        what.append(f"ends {o.end_s:.1f} → {n.end_s:.1f} s")
    if _value_differs(o.value, n.value):
        unit = f" {n.value_unit or o.value_unit}" if (n.value_unit or o.value_unit) else ""
        what.append(f"value {_num(o.value)} → {_num(n.value)}{unit}")
    return tuple(what)


def _value_differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > VALUE_EPSILON


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def diff_lines(diff: AlertDiff) -> list[str]:
    """``+`` appears, ``-`` disappears, ``~`` changes (what changed after the colon)."""
    lines = [
        f"appear {len(diff.appeared)}, disappear {len(diff.disappeared)}, "
        f"change {len(diff.changed)}, same {len(diff.same)}"
    ]
    rows: list[tuple[float, str]] = [(i.start_s, f"+ {i.describe()}") for i in diff.appeared]
    rows += [(i.start_s, f"- {i.describe()}") for i in diff.disappeared]
    rows += [(c.old.start_s, f"~ {c.old.describe()}: {'; '.join(c.what)}") for c in diff.changed]
    lines.extend(text for _, text in sorted(rows, key=lambda r: r[0]))
    return lines
