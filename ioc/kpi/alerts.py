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

Each alert names the agency (``agency``; also its ``camera_id``, so the wall's feed shows who
must act) and starts assigned (``assigned_to``) to the agency's user from ``agency_assignees``
when one is configured. ``rule_id`` is the source id (``rate`` for the rate alert).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
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
class AlertInputs:
    dossiers: Sequence[Sourced[Dossier]]
    reports: Sequence[Sourced[FieldReport]]
    agency_month: dict[str, DossierKpis]
    threshold: float
    calendar: WorkCalendar
    assignees: Mapping[str, str] = field(default_factory=dict)
    near_due_hours: float = 4.0


def wanted_alerts(inputs: AlertInputs, now: datetime) -> dict[str, Alert]:
    """Every KPI alert whose condition holds at ``now``, by id (as a ``start``)."""
    out: list[Alert] = [
        dossier_alert(s, now) for s in inputs.dossiers if is_overdue(s.record, now, inputs.calendar)
    ]
    rules = DossierRules(inputs.calendar, inputs.near_due_hours)
    out += [near_due_alert(s, now) for s in inputs.dossiers if is_near_due(s.record, now, rules)]
    out += [report_alert(s, now) for s in inputs.reports if is_report_overdue(s.record, now)]
    for agency, k in inputs.agency_month.items():
        rate = k.on_time_rate
        if rate is not None and rate < inputs.threshold:
            out.append(rate_alert(agency, rate, inputs.threshold, now))
    return {a.id: a for a in out}


def _routed(alert: Alert, assignees: Mapping[str, str]) -> Alert:
    user = assignees.get(alert.agency or "")
    return alert.model_copy(update={"assigned_to": user}) if user else alert


def plan_alerts(inputs: AlertInputs, ongoing: Iterable[Alert], now: datetime) -> list[Alert]:
    """Starts for new conditions, ends for ongoing KPI alerts whose condition is gone."""
    wanted = wanted_alerts(inputs, now)
    current = {a.id: a for a in ongoing if a.id.startswith(PREFIX)}
    starts = [_routed(a, inputs.assignees) for aid, a in wanted.items() if aid not in current]
    ends = [ended(a, now) for aid, a in current.items() if aid not in wanted]
    return [*starts, *ends]
