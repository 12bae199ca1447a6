"""Operations KPIs computed from the alert store: what the centre has on its plate right now.

``OperationsKpiPublisher`` runs in its own thread every ``interval_seconds``: the store counts the
alerts in SQL (:meth:`~ioc.store.base.Store.alert_counts`, one row per category: no alert is read,
nothing is capped, the tick costs what is open plus the last 24 h, not the history) and
:func:`kpis_from_counts` turns the counts into a ``KpiSnapshot`` (source ``operations``) published
on the bus, so dashboards get it live over /ws and from ``GET /api/kpi``.
That snapshot counts every category, so only all-seeing roles receive it (``category`` None);
beside it one snapshot per category (source ``operations.<category>``, e.g.
``operations.traffic``, ``category`` set) counts only that category's alerts, for the roles that
see it: a traffic user never sees security counts. Per-category snapshots are published for the
categories given at start (the cameras' categories), every category with an alert in the store,
and every category this publisher published before (so a category whose last alert was pruned
shows zeros, not its last counts).

:func:`alert_counts` counts the same in Python from a list of alerts; :func:`operations_kpis` and
:func:`operations_by_category` build the snapshots from it: the reference the SQL is tested against.

What "open" means (the KPI ``open_alerts``; the wall's feed header shows that number and the map
uses the same rule in ``dashboard/js/state.js``): an alert is open when it is not resolved and it is
either ongoing (no ``ended_at`` and not in state ``end``) or still waiting for acknowledgement.
``info`` alerts never wait for acknowledgement, so an ended or instant ``info`` alert (a line
crossing) is not open and never overdue.
"""

from __future__ import annotations

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
from ioc.store.base import AlertCounts, Store

SOURCE = "operations"
WINDOW = timedelta(hours=24)


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


def alert_counts(alerts: Iterable[Alert], recent_since: datetime, overdue_before: datetime) -> AlertCounts:
    """The :class:`~ioc.store.base.AlertCounts` of ``alerts``, counted in Python: the reference the
    store's SQL (:meth:`~ioc.store.base.Store.alert_counts`) is tested against."""
    counts = AlertCounts()
    for a in alerts:
        started = _utc(a.started_at)
        new = awaits_ack(a)
        recent = started >= recent_since
        to_handle = recent and a.severity is not Severity.INFO
        acked = recent and a.acknowledged_at is not None
        counts += AlertCounts(
            open=int(is_open(a)),
            unacknowledged=int(new),
            overdue=int(new and started < overdue_before),
            recent=int(recent),
            recent_to_handle=int(to_handle),
            recent_handled=int(to_handle and a.status is not AlertStatus.NEW),
            recent_acknowledged=int(acked),
            recent_ack_seconds=(_utc(a.acknowledged_at) - started).total_seconds()
            if acked and a.acknowledged_at is not None
            else 0.0,
        )
    return counts


def operations_by_category(
    alerts: Sequence[Alert], now: datetime, overdue_after: timedelta, categories: Iterable[Category] = ()
) -> list[KpiSnapshot]:
    """One snapshot per category (given or seen), counting only that category's alerts (in Python)."""
    cats = sorted({*categories, *(a.category for a in alerts)})
    return [
        category_snapshot(operations_kpis([a for a in alerts if a.category is cat], now, overdue_after), cat)
        for cat in cats
    ]


def category_snapshot(snapshot: KpiSnapshot, category: Category) -> KpiSnapshot:
    """``snapshot`` as the one of ``category`` (source ``operations.<category>``)."""
    return snapshot.model_copy(update={"source": f"{SOURCE}.{category.value}", "category": category})


def operations_kpis(alerts: Sequence[Alert], now: datetime, overdue_after: timedelta) -> KpiSnapshot:
    """:func:`kpis_from_counts` of ``alerts`` counted in Python."""
    return kpis_from_counts(alert_counts(alerts, now - WINDOW, now - overdue_after), now)


def kpis_from_counts(counts: AlertCounts, now: datetime) -> KpiSnapshot:
    """Open, unacknowledged and overdue alerts (any age); over the last 24 h: how many alerts, the
    share of those needing acknowledgement that were acknowledged or resolved, and the mean minutes
    to acknowledge (left out while nothing was acknowledged: there is no mean to show)."""
    c = counts
    values: tuple[KpiValue, ...] = (
        _value("open_alerts", "Cảnh báo đang mở", "Open alerts", c.open),
        _value("unacknowledged_alerts", "Chưa xác nhận", "Unacknowledged", c.unacknowledged),
        _value(
            "overdue_alerts",
            "Quá hạn xác nhận",
            "Overdue for acknowledgement",
            c.overdue,
            warning=bool(c.overdue),
        ),
        _value("alerts_24h", "Cảnh báo trong 24 giờ", "Alerts in 24 h", c.recent),
        _value(
            "handled_rate_24h",
            "Tỷ lệ đã xử lý (24 giờ)",
            "Handled rate (24 h)",
            round(100 * c.recent_handled / c.recent_to_handle, 1) if c.recent_to_handle else 100.0,
            unit="%",
        ),
        _value(
            "mean_ack_minutes_24h",
            "Thời gian xác nhận trung bình",
            "Mean time to acknowledge",
            round(c.recent_ack_seconds / c.recent_acknowledged / 60, 1) if c.recent_acknowledged else None,
            unit="min",
        ),
    )
    warnings = (
        (
            LocalizedText(
                vi=f"{c.overdue} cảnh báo quá hạn xác nhận",
                en=f"{c.overdue} alerts overdue for acknowledgement",
            ),
        )
        if c.overdue
        else ()
    )
    return KpiSnapshot(source=SOURCE, at=now, values=values, warnings=warnings)


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
        self._categories = set(categories)
        self._store = store
        self._publish = publish
        self._overdue_after = overdue_after
        self._clock = clock

    def run_once(self) -> KpiSnapshot:
        return self.publish_once()

    def publish_once(self) -> KpiSnapshot:
        """Publishes the all-category snapshot, then one per category; returns the first."""
        now = self._clock()
        by_category = self._store.alert_counts(now - WINDOW, now - self._overdue_after)
        snapshot = kpis_from_counts(sum(by_category.values(), AlertCounts()), now)
        self._publish(snapshot)
        self._categories |= by_category.keys()
        for cat in sorted(self._categories):
            self._publish(category_snapshot(kpis_from_counts(by_category.get(cat, AlertCounts()), now), cat))
        return snapshot
