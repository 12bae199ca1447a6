"""Field-report, hotline and indicator KPIs for a period ``[start, end)`` and the instant ``now``.

Field reports (overall, and per category = ``service_code`` or per ``agency``):

- ``received``: ``requested_at`` in the period.
- ``backlog``: not closed at ``now`` (any age).
- ``overdue_open``: not closed and ``now`` past ``expected_at``.
- ``closed``: ``closed_at`` in the period; ``median_hours_to_close`` and ``p90_hours_to_close``
  of those (``closed_at - requested_at`` in clock hours; P90 by the nearest-rank method).
- ``sla_met_rate`` = 100 × (closed in the period with ``closed_at ≤ expected_at``) / (closed in
  the period with an ``expected_at``), in %; none when there is no such report.

Hotline (per day, branch and topic): ``calls`` with ``at`` in the period, ``answered``,
``missed`` = calls − answered, ``answer_rate`` = 100 × answered / calls.

Indicators: per indicator the value of its latest period, its target, ``vs_target`` = 100 × value
/ target (none without a target or with a 0 target), and the trend: the values of up to the 12
latest periods, oldest first.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

from ioc.kpi.dossiers import Period
from ioc.kpi.records import FieldReport, HotlineCall, Indicator

ReportGroup = Literal["category", "agency"]
TREND_POINTS = 12


@dataclass(slots=True)
class ReportKpis:
    received: int = 0
    backlog: int = 0
    overdue_open: int = 0
    hours_to_close: list[float] = field(default_factory=list)
    sla_due: int = 0
    sla_met: int = 0

    @property
    def closed(self) -> int:
        return len(self.hours_to_close)

    @property
    def sla_met_rate(self) -> float | None:
        return round(100 * self.sla_met / self.sla_due, 1) if self.sla_due else None

    def as_dict(self) -> dict[str, object]:
        hours = self.hours_to_close
        return {
            "received": self.received,
            "backlog": self.backlog,
            "overdue_open": self.overdue_open,
            "closed": self.closed,
            "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
            "p90_hours_to_close": round(percentile(hours, 90), 2) if hours else None,
            "sla_met_rate": self.sla_met_rate,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of values ≤ it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def is_report_overdue(r: FieldReport, now: datetime) -> bool:
    return not r.is_closed and r.expected_at is not None and now > r.expected_at


def add_report(k: ReportKpis, r: FieldReport, period: Period, now: datetime) -> None:
    if r.requested_at in period:
        k.received += 1
    if not r.is_closed:
        k.backlog += 1
        k.overdue_open += is_report_overdue(r, now)
        return
    if r.closed_at is not None and r.closed_at in period:
        k.hours_to_close.append((r.closed_at - r.requested_at).total_seconds() / 3600)
        if r.expected_at is not None:
            k.sla_due += 1
            k.sla_met += r.closed_at <= r.expected_at


def report_kpis(reports: Iterable[FieldReport], period: Period, now: datetime) -> ReportKpis:
    k = ReportKpis()
    for r in reports:
        add_report(k, r, period, now)
    return k


def report_kpis_by(
    reports: Iterable[FieldReport], by: ReportGroup, period: Period, now: datetime
) -> dict[str, ReportKpis]:
    groups: dict[str, ReportKpis] = {}
    for r in reports:
        key = r.service_code if by == "category" else (r.agency or "")
        add_report(groups.setdefault(key, ReportKpis()), r, period, now)
    return dict(sorted(groups.items()))


@dataclass(frozen=True, slots=True)
class HotlineRow:
    day: str
    branch: str
    topic: str
    calls: int
    answered: int

    @property
    def missed(self) -> int:
        return self.calls - self.answered

    @property
    def answer_rate(self) -> float | None:
        return round(100 * self.answered / self.calls, 1) if self.calls else None


def hotline_rows(calls: Iterable[HotlineCall], period: Period, zone: tzinfo) -> list[HotlineRow]:
    """Calls per day (in ``zone``), branch and topic."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in calls:
        if c.at in period:
            cell = counts[(c.at.astimezone(zone).date().isoformat(), c.branch, c.topic)]
            cell[0] += 1
            cell[1] += c.answered
    return [HotlineRow(d, b, t, n, a) for (d, b, t), (n, a) in sorted(counts.items())]


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    indicator: str
    name: str | None
    unit: str
    agency: str | None
    period: str
    value: float
    target: float | None
    trend: tuple[float, ...]

    @property
    def vs_target(self) -> float | None:
        return round(100 * self.value / self.target, 1) if self.target else None


def indicator_rows(values: Iterable[Indicator]) -> list[IndicatorRow]:
    by_indicator: dict[str, list[Indicator]] = defaultdict(list)
    for v in values:
        by_indicator[v.indicator].append(v)
    rows = []
    for code, items in sorted(by_indicator.items()):
        items.sort(key=lambda i: i.period)
        last = items[-1]
        trend = tuple(i.value for i in items[-TREND_POINTS:])
        rows.append(
            IndicatorRow(code, last.name, last.unit, last.agency, last.period, last.value, last.target, trend)
        )
    return rows
