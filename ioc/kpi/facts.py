"""What a store keeps beside each dossier so that SQL can count its KPIs without the calendar.

The formulas of :mod:`ioc.kpi.dossiers` need working-hours arithmetic in two places; both reduce
to plain comparisons:

- early / on time / late depends only on the dossier (``finished_at``, ``due_at``) and the rules
  (calendar, ``early_hours``): :func:`facts_of` computes it once, when the dossier is stored, with
  the reference :func:`~ioc.kpi.dossiers.outcome`, and :func:`rules_key` names the rules it was
  computed with, so a store recomputes it when they change (a holiday added to kpi.yaml).
- overdue and near due depend on ``now``: :func:`bounds_at` computes two instants once per
  refresh, and then "overdue" is ``due < overdue_before`` and "near due" is
  ``overdue_before <= due <= near_due_until`` (see :class:`~ioc.kpi.workhours.WorkCalendar`).

:class:`Phase` is the status code folded to what the KPIs ask: ``open`` (neither settled, dropped
nor paused), ``paused`` (5, 6, 8), ``finished`` (9, 10) or ``dropped`` (3, 7).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from ioc.kpi.dossiers import DossierRules, Outcome, outcome
from ioc.kpi.records import DROPPED, FINISHED, PAUSED, Dossier


class Phase(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    FINISHED = "finished"
    DROPPED = "dropped"


def phase(d: Dossier) -> Phase:
    if d.status in FINISHED:
        return Phase.FINISHED
    if d.status in DROPPED:
        return Phase.DROPPED
    return Phase.PAUSED if d.status in PAUSED else Phase.OPEN


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """The columns a store keeps for one dossier. ``outcome`` and ``rules_key`` are None when it was
    stored before any rules were known (the store fills them in before it next counts)."""

    status: int
    phase: Phase
    agency: str
    field: str
    procedure: str
    channel: str
    received_ts: float
    due_ts: float | None
    finished_ts: float | None
    outcome: Outcome | None
    rules_key: str | None


def rules_key(rules: DossierRules) -> str:
    """A short stable name for what ``outcome`` depends on (the calendar and ``early_hours``)."""
    cal = rules.calendar
    spec = {
        "timezone": cal.timezone,
        "periods": [[a.isoformat(), b.isoformat()] for a, b in cal.periods],
        "weekdays": sorted(cal.weekdays),
        "holidays": sorted(d.isoformat() for d in cal.holidays),
        "makeup_days": sorted(d.isoformat() for d in cal.makeup_days),
        "early_hours": rules.early_hours,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def facts_of(d: Dossier, rules: DossierRules | None, key: str | None = None) -> DossierFacts:
    """The columns of ``d`` (``key``: ``rules_key(rules)`` when the caller already has it)."""
    return DossierFacts(
        status=int(d.status),
        phase=phase(d),
        agency=d.agency,
        field=d.field,
        procedure=d.procedure,
        channel=d.channel,
        received_ts=d.received_at.timestamp(),
        due_ts=d.due_at.timestamp() if d.due_at is not None else None,
        finished_ts=d.finished_at.timestamp() if d.finished_at is not None else None,
        outcome=outcome(d, rules) if rules is not None else None,
        rules_key=(key or rules_key(rules)) if rules is not None else None,
    )


@dataclass(frozen=True, slots=True)
class Bounds:
    """The instants that decide overdue and near due at one ``now`` (Unix seconds)."""

    overdue_before: float
    near_due_until: float


def bounds_at(now: datetime, rules: DossierRules) -> Bounds:
    cal = rules.calendar
    return Bounds(
        cal.overdue_cutoff(now).timestamp(),
        cal.near_due_until(now, rules.near_due_hours * 3600).timestamp(),
    )
