"""The KPI side of a running ioc: what the REST API reads and what the refresher publishes.

:class:`KpiService` reads the stored records and answers KPI questions for a period (overall
and grouped), the overdue list, hotline and indicator tables. :class:`KpiRefresher` (a thread,
every ``refresh_seconds``) publishes one ``KpiSnapshot`` per source of truth — ``public_service``
(dossiers), ``field_report``, ``hotline``, ``indicators`` — and the overdue alerts
(:mod:`ioc.kpi.alerts`) on the bus.

Periods are local (the calendar's time zone): ``today``, ``month`` (this calendar month),
``year``, or ``YYYY-MM-DD..YYYY-MM-DD`` (both days included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar

from ioc.config.kpi_models import KpiConfig, RecordKind
from ioc.kpi import dossiers as dk
from ioc.kpi import reports as rk
from ioc.kpi.alerts import PREFIX, AlertInputs, Sourced, plan_alerts
from ioc.kpi.ingest import RecordSink
from ioc.kpi.records import Dossier, FieldReport, HotlineCall, Indicator, Record
from ioc.kpi.workhours import WorkCalendar
from ioc.messages import Alert, Category, KpiSnapshot, KpiValue, LocalizedText
from ioc.periodic import PeriodicThread
from ioc.store.base import AlertQuery
from ioc.store.kpi_sql import StoredRecord

_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
DEMO_SOURCE = "demo"
R = TypeVar("R", bound=Record)
Loaded = tuple[list[Sourced[Dossier]], list[Sourced[FieldReport]]]


class KpiStore(RecordSink, Protocol):
    def kpi_records(self, kind: RecordKind, source: str | None = None) -> list[StoredRecord]: ...

    def query_alerts(self, query: AlertQuery) -> list[Alert]: ...


class PeriodError(ValueError):
    pass


def parse_period(text: str, now: datetime, calendar: WorkCalendar) -> dk.Period:
    """``today`` | ``month`` | ``year`` | ``YYYY-MM-DD..YYYY-MM-DD`` as instants in the calendar zone."""
    today = calendar.local(now).date()
    zone = calendar.zone

    def at(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    if text == "today":
        return dk.Period(at(today), at(today + timedelta(days=1)))
    if text == "month":
        first = today.replace(day=1)
        return dk.Period(at(first), at((first + timedelta(days=32)).replace(day=1)))
    if text == "year":
        return dk.Period(at(today.replace(month=1, day=1)), at(date(today.year + 1, 1, 1)))
    match = _RANGE.match(text)
    if match:
        try:
            first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
        except ValueError as exc:
            raise PeriodError(f"period {text!r}: {exc}") from None
        if last < first:
            raise PeriodError(f"period {text!r}: the last day is before the first")
        return dk.Period(at(first), at(last + timedelta(days=1)))
    raise PeriodError(f"period {text!r}: expected today, month, year or YYYY-MM-DD..YYYY-MM-DD")


def _records(store: KpiStore, kind: RecordKind, model: type[R]) -> list[Sourced[R]]:
    out = []
    for s in store.kpi_records(kind):
        if isinstance(s.record, model):
            out.append(Sourced(s.source, s.record))
    return out


def _v(
    key: str, vi: str, en: str, value: float | None, unit: str | None = None, warn: bool = False
) -> KpiValue:
    return KpiValue(key=key, label=LocalizedText(vi=vi, en=en), value=value, unit=unit, warning=warn)


@dataclass(frozen=True, slots=True)
class KpiService:
    config: KpiConfig
    calendar: WorkCalendar
    store: KpiStore

    @property
    def rules(self) -> dk.DossierRules:
        return dk.DossierRules(self.calendar, self.config.near_due_hours, self.config.early_hours)

    def dossiers(self) -> list[Sourced[Dossier]]:
        return _records(self.store, RecordKind.DOSSIER, Dossier)

    def reports(self) -> list[Sourced[FieldReport]]:
        return _records(self.store, RecordKind.FIELD_REPORT, FieldReport)

    def dossier_kpis(self, period: dk.Period, now: datetime, by: dk.GroupBy | None = None) -> dict[str, Any]:
        items = [s.record for s in self.dossiers()]
        total = dk.compute(items, period, now, self.rules).as_dict()
        groups = (
            {k: v.as_dict() for k, v in dk.compute_by(items, by, period, now, self.rules).items()}
            if by
            else {}
        )
        return {"period": _period_dict(period), "total": total, "groups": groups}

    def overdue(self, now: datetime) -> list[dict[str, Any]]:
        """Open overdue dossiers, most overdue first, with working hours past due."""
        rows = []
        for s in self.dossiers():
            d = s.record
            if dk.is_overdue(d, now, self.calendar):
                past = dk.overdue_seconds(d, now, self.calendar)
                rows.append(
                    {
                        "source": s.source,
                        "id": d.id,
                        "agency": d.agency,
                        "procedure": d.procedure,
                        "field": d.field,
                        "due_at": d.due_at,
                        "overdue_hours": round(past / 3600, 2),
                    }
                )
        return sorted(rows, key=lambda r: -float(r["overdue_hours"]))

    def report_kpis(
        self, period: dk.Period, now: datetime, by: rk.ReportGroup | None = None
    ) -> dict[str, Any]:
        items = [s.record for s in self.reports()]
        total = rk.report_kpis(items, period, now).as_dict()
        groups = {k: v.as_dict() for k, v in rk.report_kpis_by(items, by, period, now).items()} if by else {}
        return {"period": _period_dict(period), "total": total, "groups": groups}

    def hotline(self, period: dk.Period) -> list[rk.HotlineRow]:
        calls = [s.record for s in _records(self.store, RecordKind.HOTLINE, HotlineCall)]
        return rk.hotline_rows(calls, period, self.calendar.zone)

    def indicators(self) -> list[rk.IndicatorRow]:
        return rk.indicator_rows(s.record for s in _records(self.store, RecordKind.INDICATOR, Indicator))

    # -- what the refresher publishes -----------------------------------------------------------
    def snapshots(self, now: datetime, loaded: Loaded | None = None) -> list[KpiSnapshot]:
        """The snapshots at ``now`` (``loaded``: records already read this tick)."""
        dossiers, reports = loaded or (self.dossiers(), self.reports())
        today = parse_period("today", now, self.calendar)
        month = parse_period("month", now, self.calendar)
        out = [
            _dossier_snapshot(
                [s.record for s in dossiers],
                today,
                month,
                now,
                self.rules,
                self.config.on_time_rate_threshold,
            ),
            _report_snapshot([s.record for s in reports], today, month, now),
        ]
        hotline = self.hotline(today)
        if hotline:
            out.append(_hotline_snapshot(hotline, now))
        indicators = self.indicators()
        if indicators:
            out.append(_indicator_snapshot(indicators, now))
        demo = any(s.source == DEMO_SOURCE for s in dossiers) or any(s.source == DEMO_SOURCE for s in reports)
        return [s.model_copy(update={"demo": demo}) for s in out]

    def alerts(self, now: datetime, loaded: Loaded | None = None) -> list[Alert]:
        """The alert messages to publish at ``now`` (``loaded``: records already read this tick)."""
        dossiers, reports = loaded or (self.dossiers(), self.reports())
        month = parse_period("month", now, self.calendar)
        by_agency = dk.compute_by([s.record for s in dossiers], "agency", month, now, self.rules)
        inputs = AlertInputs(
            dossiers,
            reports,
            by_agency,
            self.config.on_time_rate_threshold,
            self.calendar,
            self.config.agency_assignees,
            self.config.near_due_hours,
        )
        cats = frozenset({Category.PUBLIC_SERVICE, Category.FIELD_REPORT})
        ongoing = [
            a
            for a in self.store.query_alerts(AlertQuery(categories=cats, limit=1_000_000))
            if a.id.startswith(PREFIX) and a.ended_at is None
        ]
        return plan_alerts(inputs, ongoing, now)


def _period_dict(period: dk.Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _dossier_snapshot(
    items: list[Dossier],
    today: dk.Period,
    month: dk.Period,
    now: datetime,
    rules: dk.DossierRules,
    threshold: float,
) -> KpiSnapshot:
    d = dk.compute(items, today, now, rules)
    m = dk.compute(items, month, now, rules)
    values = (
        _v("received_today", "Hồ sơ tiếp nhận hôm nay", "Dossiers received today", d.received),
        _v(
            "received_online_today",
            "Tiếp nhận trực tuyến hôm nay",
            "Received online today",
            d.received_by_channel.get("online", 0),
        ),
        _v("finished_month", "Đã giải quyết trong tháng", "Settled this month", m.finished),
        _v(
            "on_time_rate_month",
            "Tỷ lệ đúng hạn (tháng)",
            "On-time rate (month)",
            m.on_time_rate,
            "%",
            m.on_time_rate is not None and m.on_time_rate < threshold,
        ),
        _v("open_overdue", "Hồ sơ quá hạn", "Overdue dossiers", m.open_overdue, warn=m.open_overdue > 0),
        _v("near_due", "Sắp đến hạn", "Near due", m.near_due, warn=m.near_due > 0),
        _v("open_within_deadline", "Đang xử lý trong hạn", "Open within deadline", m.open_within_deadline),
        _v("paused", "Tạm dừng / chờ bổ sung", "Paused", m.paused),
    )
    warnings = (
        (LocalizedText(vi=f"{m.open_overdue} hồ sơ quá hạn", en=f"{m.open_overdue} dossiers overdue"),)
        if m.open_overdue
        else ()
    )
    return KpiSnapshot(
        source="public_service", at=now, values=values, warnings=warnings, category=Category.PUBLIC_SERVICE
    )


def _report_snapshot(
    items: list[FieldReport], today: dk.Period, month: dk.Period, now: datetime
) -> KpiSnapshot:
    d = rk.report_kpis(items, today, now)
    m = rk.report_kpis(items, month, now).as_dict()
    values = (
        _v("received_today", "Phản ánh hôm nay", "Reports today", d.received),
        _v("backlog", "Đang xử lý", "Backlog", d.backlog),
        _v("overdue_open", "Quá hạn", "Overdue", d.overdue_open, warn=d.overdue_open > 0),
        _v("sla_met_rate_month", "Đúng hạn (tháng)", "SLA met (month)", _num(m["sla_met_rate"]), "%"),
        _v(
            "median_hours_to_close_month",
            "Trung vị thời gian xử lý",
            "Median time to close",
            _num(m["median_hours_to_close"]),
            "h",
        ),
        _v(
            "p90_hours_to_close_month",
            "P90 thời gian xử lý",
            "P90 time to close",
            _num(m["p90_hours_to_close"]),
            "h",
        ),
    )
    return KpiSnapshot(source="field_report", at=now, values=values, category=Category.FIELD_REPORT)


def _hotline_snapshot(rows: list[rk.HotlineRow], now: datetime) -> KpiSnapshot:
    calls = sum(r.calls for r in rows)
    answered = sum(r.answered for r in rows)
    values = (
        _v("calls_today", "Cuộc gọi hôm nay", "Calls today", calls),
        _v("answered_today", "Đã trả lời", "Answered", answered),
        _v("missed_today", "Nhỡ", "Missed", calls - answered, warn=calls > answered),
        _v(
            "answer_rate_today",
            "Tỷ lệ trả lời",
            "Answer rate",
            round(100 * answered / calls, 1) if calls else None,
            "%",
        ),
    )
    return KpiSnapshot(source="hotline", at=now, values=values, category=Category.PUBLIC_SERVICE)


def _indicator_snapshot(rows: list[rk.IndicatorRow], now: datetime) -> KpiSnapshot:
    values = tuple(
        _v(
            r.indicator,
            r.name or r.indicator,
            r.name or r.indicator,
            r.value,
            r.unit,
            r.target is not None and r.value < r.target,
        )
        for r in rows
    )
    return KpiSnapshot(source="indicators", at=now, values=values, category=Category.PUBLIC_SERVICE)


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class KpiRefresher(PeriodicThread):
    """Publishes the snapshots and the alerts of :class:`KpiService` every ``refresh_seconds``."""

    def __init__(
        self,
        service: KpiService,
        publish: Callable[[Any], object],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("kpi-refresh", service.config.refresh_seconds)
        self._service = service
        self._publish = publish
        self._clock = clock

    def run_once(self) -> list[Any]:
        now = self._clock()
        loaded = (self._service.dossiers(), self._service.reports())  # read and parsed once a tick
        out: list[Any] = [*self._service.alerts(now, loaded), *self._service.snapshots(now, loaded)]
        for message in out:
            self._publish(message)
        return out
