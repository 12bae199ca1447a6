"""Operations KPIs from the alert store: counts, overdue warning, handled rate, time to ack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ioc.kpi.operations import OperationsKpiPublisher, is_open, operations_kpis
from ioc.messages import KpiSnapshot
from ioc.store.base import Action
from ioc.store.sqlite import SqliteStore
from tests.factories import make_alert

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OVERDUE = timedelta(minutes=15)


def _alert(
    n: int, minutes_ago: float, status: str = "new", ack_after_min: float | None = None, **extra: object
) -> object:
    started = NOW - timedelta(minutes=minutes_ago)
    fields: dict[str, object] = {"status": status, **extra}
    if ack_after_min is not None:
        fields |= {"acknowledged_by": "olga", "acknowledged_at": started + timedelta(minutes=ack_after_min)}
    return make_alert(n, at=started.timestamp() - n, **fields)


def _values(snapshot: KpiSnapshot) -> dict[str, tuple[float, bool]]:
    return {v.key: (v.value, v.warning) for v in snapshot.values}


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        (
            [],
            {
                "open_alerts": 0,
                "overdue_alerts": 0,
                "alerts_24h": 0,
                "handled_rate_24h": 100.0,
            },
        ),
        (
            [
                _alert(1, 5),  # new, not yet overdue
                _alert(2, 20),  # new, overdue
                _alert(3, 30, "acknowledged", ack_after_min=2),
                _alert(4, 60, "resolved", ack_after_min=4),
                _alert(5, 60 * 30),  # new, 30 h old: overdue, outside the 24 h window
            ],
            {
                "open_alerts": 4,
                "unacknowledged_alerts": 3,
                "overdue_alerts": 2,
                "alerts_24h": 4,
                "handled_rate_24h": 50.0,
                "mean_ack_minutes_24h": 3.0,
            },
        ),
    ],
)
def test_operations_kpis(alerts: list[object], expected: dict[str, float]) -> None:
    snapshot = operations_kpis(alerts, NOW, OVERDUE)  # type: ignore[arg-type]
    values = _values(snapshot)
    assert values["mean_ack_minutes_24h"][0] == expected.get("mean_ack_minutes_24h")
    assert {k: values[k][0] for k in expected} == expected
    assert values["overdue_alerts"][1] is bool(expected["overdue_alerts"])
    assert bool(snapshot.warnings) is bool(expected["overdue_alerts"])
    assert snapshot.source == "operations" and snapshot.at == NOW


def test_publisher_reads_the_store_and_publishes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ioc.db")
    for n, minutes in enumerate((5, 40, 60 * 48), start=1):
        store.save_alert(_alert(n, minutes).model_copy(update={"seq": n}))  # type: ignore[attr-defined]
    store.apply_action("gate-a2", Action.ACK, "olga", NOW - timedelta(minutes=30), {})
    published: list[KpiSnapshot] = []
    publisher = OperationsKpiPublisher(store, published.append, clock=lambda: NOW)
    snapshot = publisher.publish_once()
    store.close()
    assert published[0] == snapshot
    assert [(k.source, k.category) for k in published[1:]] == [("operations.security", "security")]
    values = _values(snapshot)
    assert values["open_alerts"][0] == 3  # the 48 h old one is still open
    assert values["overdue_alerts"] == (1.0, True)
    assert values["alerts_24h"][0] == 2
    assert values["mean_ack_minutes_24h"][0] == 10.0


def _crossing(n: int, minutes_ago: float, **fields: object) -> object:
    """An instant line-crossing event: a single start whose ended_at equals started_at."""
    started = NOW - timedelta(minutes=minutes_ago)
    return _alert(n, minutes_ago, severity="info", rule_type="line_crossing", ended_at=started, **fields)


@pytest.mark.parametrize(
    ("fields", "open_"),
    [
        ({}, True),  # warning, ongoing, new
        ({"status": "acknowledged"}, True),  # still ongoing
        ({"status": "resolved"}, False),
        ({"state": "end", "ended_at": NOW}, True),  # ended, but nobody acknowledged it yet
        ({"state": "end", "ended_at": NOW, "status": "acknowledged"}, False),
        ({"severity": "info"}, True),  # an ongoing info alert
        ({"severity": "info", "state": "end", "ended_at": NOW}, False),  # info needs no acknowledgement
        ({"severity": "critical", "state": "end", "ended_at": NOW}, True),
    ],
)
def test_is_open(fields: dict[str, object], open_: bool) -> None:
    assert is_open(make_alert(1, **fields)) is open_


def test_instant_info_events_are_neither_open_nor_overdue() -> None:
    crossings = [_crossing(n, minutes_ago=n) for n in range(1, 41)]  # 40 min of line crossings
    values = _values(operations_kpis([*crossings, _alert(99, 20)], NOW, OVERDUE))  # type: ignore[list-item]
    assert values["open_alerts"][0] == 1  # only the warning
    assert values["unacknowledged_alerts"][0] == 1
    assert values["overdue_alerts"] == (1.0, True)
    assert values["alerts_24h"][0] == 41
    assert values["handled_rate_24h"][0] == 0.0  # the warning needs handling; crossings do not
    assert values["mean_ack_minutes_24h"][0] is None  # nothing acknowledged: no mean, not 0
