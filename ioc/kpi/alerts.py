"""Overdue warnings as alerts, in the same lifecycle as camera alerts (start → end; ack/assign/resolve).

:func:`plan_alerts` is pure: given the records, the ids of the KPI alerts still ongoing and
``now``, it returns the messages to publish:

- a dossier open, not paused and past its due time (working hours) → ``start`` of
  ``dossier_overdue`` (category ``public_service``, id ``kpi-dossier-<source>-<id>``);
- a dossier due within ``near_due_hours`` working hours (not yet overdue) → ``start`` of
  ``dossier_near_due`` (severity ``info``, id ``kpi-neardue-<source>-<id>``), which ends when the
  dossier is settled or turns overdue (its ``dossier_overdue`` then starts);
- a field report open and past ``expected_at`` → ``start`` of ``report_overdue`` (category
  ``field_report``, id ``kpi-report-<source>-<id>``);
- an agency whose on-time rate this month is under the threshold → ``start`` of
  ``on_time_rate_low`` (id ``kpi-rate-<agency>``);
- an ongoing one of these whose condition no longer holds (settled, closed, rate recovered)
  → its ``end``.

The dossiers come either as records (``dossiers``: each is tested here) or already sorted by the
store (``flagged``: overdue or near due at ``now``, read with :mod:`ioc.store.kpi_dossiers`); a
flagged dossier is parsed only when its alert starts, and an ongoing alert is loaded only when it
ends, so a refresh over many open dossiers builds only the messages it publishes.

Each alert names the agency (``agency``; also its ``camera_id``, so the wall's feed shows who
must act) and starts assigned (``assigned_to``) to the agency's user from ``agency_assignees``
when one is configured. ``rule_id`` is the source id (``rate`` for the rate alert).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Generic, TypeVar

from ioc.kpi.dossiers import DossierKpis, DossierRules, is_near_due, is_overdue
from ioc.kpi.records import Dossier, FieldReport
from ioc.kpi.reports import is_report_overdue
from ioc.kpi.workhours import WorkCalendar
from ioc.messages import Alert, AlertState, Category, LocalizedText, Severity

PREFIX = "kpi-"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    source: str
    record: T


def _alert(
    alert_id: str,
    category: Category,
    rule_type: str,
    rule_id: str,
    agency: str,
    now: datetime,
    text: LocalizedText,
    severity: Severity = Severity.WARNING,
) -> Alert:
    return Alert(
        id=alert_id,
        camera_id=agency or "-",
        rule_id=rule_id,
        rule_type=rule_type,
        state=AlertState.START,
        severity=severity,
        category=category,
        started_at=now,
        updated_at=now,
        message=text,
        agency=agency or None,
    )


def dossier_alert(s: Sourced[Dossier], now: datetime) -> Alert:
    d = s.record
    due = d.due_at.isoformat(timespec="minutes") if d.due_at else "?"
    text = LocalizedText(
        vi=f"Hồ sơ {d.id} ({d.procedure}) quá hạn xử lý tại {d.agency} (hạn {due})",
        en=f"Dossier {d.id} ({d.procedure}) overdue at {d.agency} (due {due})",
    )
    return _alert(
        f"{PREFIX}dossier-{s.source}-{d.id}",
        Category.PUBLIC_SERVICE,
        "dossier_overdue",
        s.source,
        d.agency,
        now,
        text,
    )


def near_due_alert(s: Sourced[Dossier], now: datetime) -> Alert:
    d = s.record
    due = d.due_at.isoformat(timespec="minutes") if d.due_at else "?"
    text = LocalizedText(
        vi=f"Hồ sơ {d.id} ({d.procedure}) tại {d.agency} sắp đến hạn ({due})",
        en=f"Dossier {d.id} ({d.procedure}) at {d.agency} is near due ({due})",
    )
    aid = f"{PREFIX}neardue-{s.source}-{d.id}"
    return _alert(
        aid, Category.PUBLIC_SERVICE, "dossier_near_due", s.source, d.agency, now, text, Severity.INFO
    )


def report_alert(s: Sourced[FieldReport], now: datetime) -> Alert:
    r = s.record
    agency = r.agency or ""
    text = LocalizedText(
        vi=f"Phản ánh {r.id} ({r.service_code}) quá hạn xử lý" + (f" tại {agency}" if agency else ""),
        en=f"Field report {r.id} ({r.service_code}) overdue" + (f" at {agency}" if agency else ""),
    )
    return _alert(
        f"{PREFIX}report-{s.source}-{r.id}",
        Category.FIELD_REPORT,
        "report_overdue",
        s.source,
        agency,
        now,
        text,
    )


def rate_alert(agency: str, rate: float, threshold: float, now: datetime) -> Alert:
    text = LocalizedText(
        vi=f"Tỷ lệ đúng hạn của {agency} tháng này {rate:.1f}% (ngưỡng {threshold:.0f}%)",
        en=f"On-time rate of {agency} this month {rate:.1f}% (threshold {threshold:.0f}%)",
    )
    return _alert(
        f"{PREFIX}rate-{agency}", Category.PUBLIC_SERVICE, "on_time_rate_low", "rate", agency, now, text
    )


def ended(alert: Alert, now: datetime) -> Alert:
    return alert.model_copy(update={"state": AlertState.END, "updated_at": now, "ended_at": now, "seq": None})


@dataclass(frozen=True, slots=True)
class Flagged:
    """An open dossier the store found overdue (``overdue``) or near due at ``now``; ``load``
    parses its record."""

    source: str
    id: str
    overdue: bool
    load: Callable[[], Dossier]


@dataclass(frozen=True, slots=True)
class AlertInputs:
    dossiers: Sequence[Sourced[Dossier]]
    reports: Sequence[Sourced[FieldReport]]
    agency_month: dict[str, DossierKpis]
    threshold: float
    calendar: WorkCalendar
    assignees: Mapping[str, str] = field(default_factory=dict)
    near_due_hours: float = 4.0
    flagged: Sequence[Flagged] = ()


Build = Callable[[], Alert]


def _flagged_alert(f: Flagged, now: datetime) -> Alert:
    return (dossier_alert if f.overdue else near_due_alert)(Sourced(f.source, f.load()), now)


def wanted_alerts(inputs: AlertInputs, now: datetime) -> dict[str, Build]:
    """Every KPI alert whose condition holds at ``now``: its id and how to build it (a ``start``)."""
    out: dict[str, Build] = {}
    rules = DossierRules(inputs.calendar, inputs.near_due_hours)
    for s in inputs.dossiers:
        if is_overdue(s.record, now, inputs.calendar):
            out[f"{PREFIX}dossier-{s.source}-{s.record.id}"] = partial(dossier_alert, s, now)
        elif is_near_due(s.record, now, rules):
            out[f"{PREFIX}neardue-{s.source}-{s.record.id}"] = partial(near_due_alert, s, now)
    for f in inputs.flagged:
        out[f"{PREFIX}{'dossier' if f.overdue else 'neardue'}-{f.source}-{f.id}"] = partial(
            _flagged_alert, f, now
        )
    for r in inputs.reports:
        if is_report_overdue(r.record, now):
            out[f"{PREFIX}report-{r.source}-{r.record.id}"] = partial(report_alert, r, now)
    for agency, k in inputs.agency_month.items():
        rate = k.on_time_rate
        if rate is not None and rate < inputs.threshold:
            out[f"{PREFIX}rate-{agency}"] = partial(rate_alert, agency, rate, inputs.threshold, now)
    return out


def _routed(alert: Alert, assignees: Mapping[str, str]) -> Alert:
    user = assignees.get(alert.agency or "")
    return alert.model_copy(update={"assigned_to": user}) if user else alert


def plan_alerts(
    inputs: AlertInputs, ongoing: Iterable[Alert] | Mapping[str, Callable[[], Alert | None]], now: datetime
) -> list[Alert]:
    """Starts for new conditions, ends for ongoing KPI alerts whose condition is gone. ``ongoing``:
    the alerts, or their ids each with how to load it."""
    wanted = wanted_alerts(inputs, now)
    if isinstance(ongoing, Mapping):
        current = {aid: load for aid, load in ongoing.items() if aid.startswith(PREFIX)}
    else:
        current = {a.id: partial(lambda a: a, a) for a in ongoing if a.id.startswith(PREFIX)}
    starts = [_routed(build(), inputs.assignees) for aid, build in wanted.items() if aid not in current]
    gone = [load() for aid, load in current.items() if aid not in wanted]
    ends = [ended(a, now) for a in gone if a is not None]
    return [*starts, *ends]
