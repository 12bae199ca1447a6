"""Public-service dossier KPIs for a period, overall and per agency / field / procedure.

For a period ``[start, end)`` and the instant ``now`` (all deadline arithmetic in working
seconds of the :class:`~ioc.kpi.workhours.WorkCalendar`):

- ``received``: ``received_at`` in the period; also split by ``channel``.
- ``carried_over``: received before ``start``, neither dropped (status 3, 7) nor finished
  before ``start``.
- finished in the period: status 9 or 10 with ``finished_at`` in the period, each one of
  - ``late``: finished after ``due_at`` by more than 0 working seconds (due 11:30, finished 13:31
    the same day: late by one working minute; finished 12:45 in the lunch break: not late);
  - ``early``: finished at least ``early_hours`` working hours before ``due_at``;
  - ``on_time``: the rest (and every dossier without ``due_at``).
- ``on_time_rate`` = 100 × (early + on_time) / finished, in %; none while nothing finished.
- open at ``now``: not finished and not dropped. ``paused``: open with status 5, 6 or 8 (the
  clock is stopped: not counted as within deadline or overdue). The others with a ``due_at``:
  ``open_overdue`` when ``now`` is past ``due_at`` by more than 0 working seconds, else
  ``open_within_deadline``; of those, ``near_due`` when due within ``near_due_hours`` working
  hours. Open dossiers without ``due_at`` count as within deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ioc.kpi.records import DROPPED, PAUSED, Dossier
from ioc.kpi.workhours import WorkCalendar

GroupBy = Literal["agency", "field", "procedure"]
Outcome = Literal["early", "on_time", "late"]


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class DossierRules:
    calendar: WorkCalendar
    near_due_hours: float = 4.0
    early_hours: float = 8.0


@dataclass(slots=True)
class DossierKpis:
    received: int = 0
    received_by_channel: Counter[str] = field(default_factory=Counter)
    carried_over: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    open_within_deadline: int = 0
    open_overdue: int = 0
    near_due: int = 0
    paused: int = 0

    @property
    def finished(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * (self.early + self.on_time) / self.finished, 1) if self.finished else None

    def as_dict(self) -> dict[str, object]:
        return {
            "received": self.received,
            "received_by_channel": dict(sorted(self.received_by_channel.items())),
            "carried_over": self.carried_over,
            "finished": self.finished,
            "early": self.early,
            "on_time": self.on_time,
            "late": self.late,
            "on_time_rate": self.on_time_rate,
            "open_within_deadline": self.open_within_deadline,
            "open_overdue": self.open_overdue,
            "near_due": self.near_due,
            "paused": self.paused,
        }


def outcome(d: Dossier, rules: DossierRules) -> Outcome:
    """Early, on time or late, for a finished dossier."""
    if d.due_at is None or d.finished_at is None:
        return "on_time"
    margin = rules.calendar.working_seconds(d.finished_at, d.due_at)
    if margin < 0:
        return "late"
    return "early" if margin >= rules.early_hours * 3600 else "on_time"


def is_open(d: Dossier) -> bool:
    return not d.is_finished and d.status not in DROPPED


def overdue_seconds(d: Dossier, now: datetime, calendar: WorkCalendar) -> float:
    """Working seconds past due (≤ 0: not overdue); 0 for a dossier without a deadline."""
    return calendar.working_seconds(d.due_at, now) if d.due_at is not None else 0.0


def is_overdue(d: Dossier, now: datetime, calendar: WorkCalendar) -> bool:
    return is_open(d) and d.status not in PAUSED and overdue_seconds(d, now, calendar) > 0


def is_near_due(d: Dossier, now: datetime, rules: DossierRules) -> bool:
    """Open, not paused, not yet overdue, and due within ``near_due_hours`` working hours."""
    if d.due_at is None or not is_open(d) or d.status in PAUSED or is_overdue(d, now, rules.calendar):
        return False
    near = rules.near_due_hours * 3600
    return rules.calendar.working_seconds(now, d.due_at, cap=near) <= near


def add(k: DossierKpis, d: Dossier, period: Period, now: datetime, rules: DossierRules) -> None:
    """Count one dossier into ``k``."""
    if d.received_at in period:
        k.received += 1
        k.received_by_channel[d.channel] += 1
    elif d.received_at < period.start and _open_at(d, period.start):
        k.carried_over += 1
    if d.is_finished and d.finished_at is not None and d.finished_at in period:
        setattr(k, outcome(d, rules), getattr(k, outcome(d, rules)) + 1)
    if not is_open(d):
        return
    if d.status in PAUSED:
        k.paused += 1
        return
    if d.due_at is not None and d.due_at < now and overdue_seconds(d, now, rules.calendar) > 0:
        k.open_overdue += 1
        return
    k.open_within_deadline += 1
    near = rules.near_due_hours * 3600
    if d.due_at is not None and rules.calendar.working_seconds(now, d.due_at, cap=near) <= near:
        k.near_due += 1


def _open_at(d: Dossier, moment: datetime) -> bool:
    if d.status in DROPPED:
        return False
    return d.finished_at is None or d.finished_at >= moment


def compute(dossiers: Iterable[Dossier], period: Period, now: datetime, rules: DossierRules) -> DossierKpis:
    k = DossierKpis()
    for d in dossiers:
        add(k, d, period, now, rules)
    return k


KEYS: dict[GroupBy, Callable[[Dossier], str]] = {
    "agency": lambda d: d.agency,
    "field": lambda d: d.field,
    "procedure": lambda d: d.procedure,
}


def compute_by(
    dossiers: Iterable[Dossier], by: GroupBy, period: Period, now: datetime, rules: DossierRules
) -> dict[str, DossierKpis]:
    """KPIs per agency, field or procedure."""
    groups: dict[str, DossierKpis] = {}
    key = KEYS[by]
    for d in dossiers:
        add(groups.setdefault(key(d), DossierKpis()), d, period, now, rules)
    return dict(sorted(groups.items()))
