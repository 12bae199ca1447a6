"""The KPI side of a running ioc: what the REST API reads and what the refresher publishes.

:class:`KpiService` reads the stored records and answers KPI questions for a period (overall
and grouped), the overdue list, hotline and indicator tables. Dossier KPIs, the overdue list and
the dossier alerts are counted by the store in SQL (:mod:`ioc.store.kpi_dossiers`), exactly as the
formulas of :mod:`ioc.kpi.dossiers` say, without reading every dossier; field reports, hotline
calls and indicators are read and computed here. :class:`KpiRefresher` (a thread,
every ``refresh_seconds``) publishes one ``KpiSnapshot`` per source of truth — ``public_service``
(dossiers), ``field_report``, ``hotline``, ``indicators`` —, for each agency that has ``agency``-role
users its own ``public_service`` and ``field_report`` snapshots (``agency`` set), and the overdue
alerts (:mod:`ioc.kpi.alerts`) on the bus.

Periods are local (the calendar's time zone): ``today``, ``month`` (this calendar month),
``year``, or ``YYYY-MM-DD..YYYY-MM-DD`` (both days included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from ioc.config.kpi_models import KpiConfig, RecordKind
from ioc.kpi import dossiers as dk
from ioc.kpi import reports as rk
from ioc.kpi.alerts import PREFIX, AlertInputs, Flagged, Sourced, plan_alerts
from ioc.kpi.ingest import RecordSink
from ioc.kpi.records import Dossier, FieldReport, HotlineCall, Indicator, Record
from ioc.kpi.workhours import WorkCalendar
from ioc.messages import Alert, Category, KpiSnapshot, KpiValue, LocalizedText
from ioc.periodic import PeriodicThread
from ioc.store.base import UserRecord
from ioc.store.kpi_sql import StoredRecord

_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
DEMO_SOURCE = "demo"
AGENCY_ROLE = "agency"
"""The role whose users get their agency's own snapshots (``ioc.api.auth.Role.AGENCY``)."""
R = TypeVar("R", bound=Record)
Loaded = list[Sourced[FieldReport]]


class KpiStore(RecordSink, Protocol):
    def kpi_records(self, kind: RecordKind, source: str | None = None) -> list[StoredRecord]: ...

    def has_source_records(self, kind: RecordKind, source: str) -> bool: ...

    def dossier_kpi_groups(
        self,
        period: dk.Period,
        now: datetime,
        rules: dk.DossierRules,
        by: dk.GroupBy | None = None,
        agency: str | None = None,
    ) -> dict[str, dk.DossierKpis]: ...

    def overdue_dossier_rows(
        self, now: datetime, rules: dk.DossierRules, agency: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str]]: ...

    def flagged_dossier_rows(
        self, now: datetime, rules: dk.DossierRules
    ) -> list[tuple[str, str, bool, str]]: ...

    def ongoing_alert_ids(self, prefix: str) -> list[str]: ...

    def get_alert(self, alert_id: str) -> Alert | None: ...

    def list_users(self) -> list[UserRecord]: ...

    def use_dossier_rules(self, rules: dk.DossierRules) -> None: ...


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

    def __post_init__(self) -> None:
        self.store.use_dossier_rules(self.rules)  # outcomes computed as dossiers are stored

    @property
    def rules(self) -> dk.DossierRules:
        return dk.DossierRules(self.calendar, self.config.near_due_hours, self.config.early_hours)

    def dossiers(self, agency: str | None = None) -> list[Sourced[Dossier]]:
        """Every dossier; with ``agency``, only that agency's (what an agency-role user sees)."""
        rows = _records(self.store, RecordKind.DOSSIER, Dossier)
        return rows if agency is None else [s for s in rows if s.record.agency == agency]

    def reports(self, agency: str | None = None) -> list[Sourced[FieldReport]]:
        """Every field report; with ``agency``, only that agency's."""
        rows = _records(self.store, RecordKind.FIELD_REPORT, FieldReport)
        return rows if agency is None else [s for s in rows if s.record.agency == agency]

    def dossier_kpis(
        self, period: dk.Period, now: datetime, by: dk.GroupBy | None = None, agency: str | None = None
    ) -> dict[str, Any]:
        total = self.store.dossier_kpi_groups(period, now, self.rules, None, agency)[""].as_dict()
        groups = (
            {
                k: v.as_dict()
                for k, v in self.store.dossier_kpi_groups(period, now, self.rules, by, agency).items()
            }
            if by
            else {}
        )
        return {"period": _period_dict(period), "total": total, "groups": groups}

    def overdue(
        self, now: datetime, agency: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Open overdue dossiers (of ``agency`` when given), most overdue first (then by source and
        id), at most ``limit``, with working hours past due."""
        rows = []
        for source, body in self.store.overdue_dossier_rows(now, self.rules, agency, limit):
            d = Dossier.model_validate_json(body)
            past = dk.overdue_seconds(d, now, self.calendar)
            rows.append(
                {
                    "source": source,
                    "id": d.id,
                    "agency": d.agency,
                    "procedure": d.procedure,
                    "field": d.field,
                    "due_at": d.due_at,
                    "overdue_hours": round(past / 3600, 2),
                }
            )
        return rows

    def report_kpis(
        self, period: dk.Period, now: datetime, by: rk.ReportGroup | None = None, agency: str | None = None
    ) -> dict[str, Any]:
        items = [s.record for s in self.reports(agency)]
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
        """The snapshots at ``now`` (``loaded``: the field reports already read this tick)."""
        reports = self.reports() if loaded is None else loaded
        today = parse_period("today", now, self.calendar)
        month = parse_period("month", now, self.calendar)
        out = [
            _dossier_snapshot(
                self.store.dossier_kpi_groups(today, now, self.rules)[""],
                self.store.dossier_kpi_groups(month, now, self.rules)[""],
                now,
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
        out += self.agency_snapshots(now, reports)
        demo = self.store.has_source_records(RecordKind.DOSSIER, DEMO_SOURCE) or any(
            s.source == DEMO_SOURCE for s in reports
        )
        return [s.model_copy(update={"demo": demo}) for s in out]

    def agency_snapshots(self, now: datetime, reports: Loaded) -> list[KpiSnapshot]:
        """``public_service`` and ``field_report`` snapshots of each agency that has ``agency``-role
        users, counted over that agency's records only (``agency`` set: sent to its staff only)."""
        agencies = sorted({u.agency for u in self.store.list_users() if u.role == AGENCY_ROLE and u.agency})
        if not agencies:
            return []
        today = parse_period("today", now, self.calendar)
        month = parse_period("month", now, self.calendar)
        d = self.store.dossier_kpi_groups(today, now, self.rules, "agency")
        m = self.store.dossier_kpi_groups(month, now, self.rules, "agency")
        threshold = self.config.on_time_rate_threshold
        out = []
        for agency in agencies:
            none = dk.DossierKpis()
            own = [s.record for s in reports if s.record.agency == agency]
            for snapshot in (
                _dossier_snapshot(d.get(agency, none), m.get(agency, none), now, threshold),
                _report_snapshot(own, today, month, now),
            ):
                out.append(snapshot.model_copy(update={"agency": agency}))
        return out

    def alerts(self, now: datetime, loaded: Loaded | None = None) -> list[Alert]:
        """The alert messages to publish at ``now`` (``loaded``: the field reports already read
        this tick)."""
        reports = self.reports() if loaded is None else loaded
        month = parse_period("month", now, self.calendar)
        flagged = [
            Flagged(source, rid, overdue, partial(Dossier.model_validate_json, body))
            for source, rid, overdue, body in self.store.flagged_dossier_rows(now, self.rules)
        ]
        inputs = AlertInputs(
            (),
            reports,
            self.store.dossier_kpi_groups(month, now, self.rules, "agency"),
            self.config.on_time_rate_threshold,
            self.calendar,
            self.config.agency_assignees,
            self.config.near_due_hours,
            flagged,
        )
        ongoing = {aid: partial(self.store.get_alert, aid) for aid in self.store.ongoing_alert_ids(PREFIX)}
        return plan_alerts(inputs, ongoing, now)


def _period_dict(period: dk.Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _dossier_snapshot(d: dk.DossierKpis, m: dk.DossierKpis, now: datetime, threshold: float) -> KpiSnapshot:
    """``d``: today's KPIs, ``m``: this month's."""
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
        loaded = self._service.reports()  # read and parsed once a tick
        out: list[Any] = [*self._service.alerts(now, loaded), *self._service.snapshots(now, loaded)]
        for message in out:
            self._publish(message)
        return out
