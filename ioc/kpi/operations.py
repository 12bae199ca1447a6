"""Operations KPIs computed from the alert store: what the centre has on its plate right now.

``operations_kpis`` is a pure function of the alerts and the time; ``OperationsKpiPublisher`` runs
it in its own thread every ``interval_seconds`` and publishes a ``KpiSnapshot`` (source
``operations``) on the bus, so dashboards get it live over /ws and from ``GET /api/kpi``.
That snapshot counts every category, so only all-seeing roles receive it (``category`` None);
beside it one snapshot per category (source ``operations.<category>``, e.g.
``operations.traffic``, ``category`` set) counts only that category's alerts, for the roles that
see it: a traffic user never sees security counts. Per-category snapshots are published for the
categories given at start (the cameras' categories) and every category seen in the alerts.

What "open" means (the KPI ``open_alerts``; the wall's feed header shows that number and the map
uses the same rule in ``dashboard/js/state.js``): an alert is open when it is not resolved and it is
either ongoing (no ``ended_at`` and not in state ``end``) or still waiting for acknowledgement.
``info`` alerts never wait for acknowledgement, so an ended or instant ``info`` alert (a line
crossing) is not open and never overdue.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from ioc.messages import (
    Alert,
    AlertState,
    AlertStatus,
    Category,
    KpiSnapshot,
    KpiValue,
    LocalizedText,
    Severity,
)
from ioc.periodic import PeriodicThread
from ioc.store.base import AlertQuery, Store

SOURCE = "operations"
WINDOW = timedelta(hours=24)
MAX_ALERTS = 5000


def _value(
    key: str, vi: str, en: str, value: float | None, unit: str | None = None, warning: bool = False
) -> KpiValue:
    return KpiValue(key=key, label=LocalizedText(vi=vi, en=en), value=value, unit=unit, warning=warning)


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def is_ongoing(alert: Alert) -> bool:
    return alert.ended_at is None and alert.state is not AlertState.END


def awaits_ack(alert: Alert) -> bool:
    """New and not ``info``: someone still has to acknowledge it."""
    return alert.status is AlertStatus.NEW and alert.severity is not Severity.INFO


def is_open(alert: Alert) -> bool:
    """Not resolved, and ongoing or awaiting acknowledgement (see the module docstring)."""
    return alert.status is not AlertStatus.RESOLVED and (is_ongoing(alert) or awaits_ack(alert))


def operations_by_category(
    alerts: Sequence[Alert], now: datetime, overdue_after: timedelta, categories: Iterable[Category] = ()
) -> list[KpiSnapshot]:
    """One snapshot per category (given or seen), counting only that category's alerts."""
    cats = sorted({*categories, *(a.category for a in alerts)})
    return [
        operations_kpis([a for a in alerts if a.category is cat], now, overdue_after).model_copy(
            update={"source": f"{SOURCE}.{cat.value}", "category": cat}
        )
        for cat in cats
    ]


def operations_kpis(alerts: Sequence[Alert], now: datetime, overdue_after: timedelta) -> KpiSnapshot:
    """Open, unacknowledged and overdue alerts (any age); over the last 24 h: how many alerts, the
    share of those needing acknowledgement that were acknowledged or resolved, and the mean minutes
    to acknowledge (left out while nothing was acknowledged: there is no mean to show)."""
    open_ = [a for a in alerts if is_open(a)]
    new = [a for a in alerts if awaits_ack(a)]
    overdue = [a for a in new if _utc(a.started_at) < now - overdue_after]
    recent = [a for a in alerts if _utc(a.started_at) >= now - WINDOW]
    to_handle = [a for a in recent if a.severity is not Severity.INFO]
    handled = [a for a in to_handle if a.status is not AlertStatus.NEW]
    ack_minutes = [
        (_utc(a.acknowledged_at) - _utc(a.started_at)).total_seconds() / 60
        for a in recent
        if a.acknowledged_at is not None
    ]
    values: tuple[KpiValue, ...] = (
        _value("open_alerts", "Cảnh báo đang mở", "Open alerts", len(open_)),
        _value("unacknowledged_alerts", "Chưa xác nhận", "Unacknowledged", len(new)),
        _value(
            "overdue_alerts",
            "Quá hạn xác nhận",
            "Overdue for acknowledgement",
            len(overdue),
            warning=bool(overdue),
        ),
        _value("alerts_24h", "Cảnh báo trong 24 giờ", "Alerts in 24 h", len(recent)),
        _value(
            "handled_rate_24h",
            "Tỷ lệ đã xử lý (24 giờ)",
            "Handled rate (24 h)",
            round(100 * len(handled) / len(to_handle), 1) if to_handle else 100.0,
            unit="%",
        ),
        _value(
            "mean_ack_minutes_24h",
            "Thời gian xác nhận trung bình",
            "Mean time to acknowledge",
            round(statistics.fmean(ack_minutes), 1) if ack_minutes else None,
            unit="min",
        ),
    )
    warnings = (
        (
            LocalizedText(
                vi=f"{len(overdue)} cảnh báo quá hạn xác nhận",
                en=f"{len(overdue)} alerts overdue for acknowledgement",
            ),
        )
        if overdue
        else ()
    )
    return KpiSnapshot(source=SOURCE, at=now, values=values, warnings=warnings)


def load_alerts(store: Store, now: datetime) -> list[Alert]:
    """Every unresolved alert plus everything from the last 24 h (bounded)."""
    recent = store.query_alerts(AlertQuery(since=now - WINDOW, limit=MAX_ALERTS))
    pending = [
        a
        for status in (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED)
        for a in store.query_alerts(AlertQuery(status=status, limit=MAX_ALERTS))
    ]
    by_id = {a.id: a for a in (*pending, *recent)}
    return list(by_id.values())


class OperationsKpiPublisher(PeriodicThread):
    """A thread publishing :func:`operations_kpis` at start and then every ``interval_seconds``."""

    def __init__(
        self,
        store: Store,
        publish: Callable[[KpiSnapshot], object],
        *,
        interval_seconds: float = 30.0,
        overdue_after: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        categories: Iterable[Category] = (),
    ) -> None:
        super().__init__("kpi-operations", interval_seconds)
        self._categories = tuple(categories)
        self._store = store
        self._publish = publish
        self._overdue_after = overdue_after
        self._clock = clock

    def run_once(self) -> KpiSnapshot:
        return self.publish_once()

    def publish_once(self) -> KpiSnapshot:
        """Publishes the all-category snapshot, then one per category; returns the first."""
        now = self._clock()
        alerts = load_alerts(self._store, now)
        snapshot = operations_kpis(alerts, now, self._overdue_after)
        self._publish(snapshot)
        for per_category in operations_by_category(alerts, now, self._overdue_after, self._categories):
            self._publish(per_category)
        return snapshot
