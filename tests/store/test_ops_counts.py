"""Operations KPI counts in SQL (``Store.alert_counts``) against the Python reference
(:func:`ioc.kpi.operations.alert_counts`), on both stores: randomized alert sets, more than 5000
alerts, an older database back-filled, and the indexes the queries walk.

Times are whole seconds, so the sums of seconds to acknowledge are exact on both sides and the
snapshots (rounded to 0.1) can be compared with ``==``.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from ioc.kpi.operations import (
    WINDOW,
    OperationsKpiPublisher,
    alert_counts,
    operations_by_category,
    operations_kpis,
)
from ioc.messages import Alert, AlertState, AlertStatus, Category, KpiSnapshot, Severity
from ioc.store import ops_sql
from ioc.store.base import Action, AlertCounts, AlertQuery, Store
from ioc.store.postgres import PostgresStore
from ioc.store.sql import SqlStore
from ioc.store.sqlite import SqliteStore
from tests.factories import make_alert
from tests.store.conftest import _pg_schema_url

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OVERDUE = timedelta(minutes=15)
RECENT_SINCE, OVERDUE_BEFORE = NOW - WINDOW, NOW - OVERDUE
EDGES = (0, -60, 1, 899, 900, 901, 86_399, 86_400, 86_401)
"""Seconds before NOW: now, the future, and both sides of the overdue and 24 h limits."""


def _started(rng: random.Random) -> datetime:
    ago = rng.choice(EDGES) if rng.random() < 0.3 else rng.randrange(0, 3 * 86_400)
    return NOW - timedelta(seconds=ago)


def _random_alert(rng: random.Random, n: int, categories: list[Category]) -> Alert:
    """Any status, state, severity and category; acknowledged or not, ended or not."""
    started = _started(rng)
    status = rng.choice(list(AlertStatus))
    state = rng.choice(list(AlertState))
    ended = rng.choice([None, started, started + timedelta(seconds=rng.randrange(1, 600))])
    acked = (status is not AlertStatus.NEW and rng.random() < 0.7) or rng.random() < 0.05
    fields: dict[str, Any] = {
        "seq": n,
        "status": status,
        "state": state,
        "ended_at": ended,
        "updated_at": max(started, ended or started),
        "severity": rng.choice(list(Severity)),
        "category": rng.choice(categories),
        "started_at": started,
    }
    if acked:
        fields |= {
            "acknowledged_by": "olga",
            "acknowledged_at": started + timedelta(seconds=rng.randrange(3600)),
        }
    return make_alert(n, camera_id=f"cam{n % 7}", **fields)


def _fill_randomly(store: Store, rng: random.Random, count: int) -> None:
    """Stores ``count`` alerts the way the product does (messages, then operator actions and end
    messages on some), so every write path keeps the columns."""
    categories = rng.sample(list(Category), k=rng.randint(1, len(Category)))
    alerts = [_random_alert(rng, n, categories) for n in range(1, count + 1)]
    for alert in alerts:
        store.save_alert(alert)
    seq = count
    for alert in rng.sample(alerts, k=count // 4):
        seq += 1
        if alert.status is AlertStatus.NEW and rng.random() < 0.5:
            at = alert.started_at + timedelta(seconds=rng.randrange(1, 3600))
            store.apply_action(alert.id, rng.choice([Action.ACK, Action.RESOLVE]), "olga", at, {})
        elif alert.state is not AlertState.END:
            end = alert.updated_at + timedelta(seconds=rng.randrange(1, 600))
            update = {"seq": seq, "state": AlertState.END, "ended_at": end, "updated_at": end}
            store.save_alert(alert.model_copy(update=update))


def _stored(store: Store) -> list[Alert]:
    return store.query_alerts(AlertQuery(limit=1_000_000))


def _reference(alerts: list[Alert]) -> dict[Category, AlertCounts]:
    return {
        cat: alert_counts([a for a in alerts if a.category is cat], RECENT_SINCE, OVERDUE_BEFORE)
        for cat in {a.category for a in alerts}
    }


@pytest.mark.parametrize("seed", range(6))
def test_sql_counts_equal_the_python_reference(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    _fill_randomly(store, rng, 150)
    alerts = _stored(store)
    expected = _reference(alerts)
    total = sum(expected.values(), AlertCounts())
    assert all(getattr(total, name) for name in AlertCounts.__dataclass_fields__), total  # every case met
    assert store.alert_counts(RECENT_SINCE, OVERDUE_BEFORE) == expected

    published: list[KpiSnapshot] = []
    given = [Category.TRAFFIC]
    OperationsKpiPublisher(store, published.append, clock=lambda: NOW, categories=given).publish_once()
    assert published == [
        operations_kpis(alerts, NOW, OVERDUE),
        *operations_by_category(alerts, NOW, OVERDUE, given),
    ]


def _insert_rows(store: Store, alerts: list[Alert]) -> None:
    """Straight into the alerts table in one transaction (``save_alert`` takes one per alert)."""
    sql_store = cast(SqlStore, store)
    with sql_store._tx():
        for alert in alerts:
            sql_store._write_row(alert)


def test_more_than_5000_alerts_are_all_counted(store: Store) -> None:
    started = NOW - timedelta(hours=1)
    waiting = [make_alert(n, seq=n, started_at=started, updated_at=started) for n in range(1, 5201)]
    crossings = [
        make_alert(
            n,
            seq=n,
            severity="info",
            category="traffic",
            started_at=started,
            updated_at=started,
            ended_at=started,
        )
        for n in range(5201, 6101)
    ]
    _insert_rows(store, [*waiting, *crossings])
    published: list[KpiSnapshot] = []
    OperationsKpiPublisher(store, published.append, clock=lambda: NOW).publish_once()
    values = [{v.key: v.value for v in s.values} for s in published]
    assert [(s.source, s.category) for s in published] == [
        ("operations", None),
        ("operations.security", Category.SECURITY),
        ("operations.traffic", Category.TRAFFIC),
    ]
    assert values[0] | {"mean_ack_minutes_24h": 0} == {
        "open_alerts": 5200,
        "unacknowledged_alerts": 5200,
        "overdue_alerts": 5200,
        "alerts_24h": 6100,
        "handled_rate_24h": 0.0,
        "mean_ack_minutes_24h": 0,
    }
    assert (values[1]["open_alerts"], values[1]["alerts_24h"]) == (5200, 5200)
    assert (values[2]["open_alerts"], values[2]["alerts_24h"]) == (0, 900)


def test_a_category_published_once_stays_published_after_its_alerts_are_pruned(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ioc.db")
    store.save_alert(make_alert(1, seq=1, category="traffic", started_at=NOW, updated_at=NOW))
    published: list[KpiSnapshot] = []
    publisher = OperationsKpiPublisher(store, published.append, clock=lambda: NOW)
    publisher.publish_once()
    assert store.prune_alerts(NOW + timedelta(days=1)) == 1
    publisher.publish_once()
    store.close()
    traffic = [s for s in published if s.category is Category.TRAFFIC]
    assert [next(v.value for v in s.values if v.key == "alerts_24h") for s in traffic] == [1, 0]


OLD_ALERTS = """CREATE TABLE alerts (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, camera_id TEXT NOT NULL, category TEXT NOT NULL,
    rule_type TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL,
    started_ts DOUBLE PRECISION NOT NULL, updated_ts DOUBLE PRECISION NOT NULL, body TEXT NOT NULL)"""


def _old_row(a: Alert) -> tuple[Any, ...]:
    values = (a.category.value, a.rule_type, a.severity.value, a.status.value, a.state.value)
    times = (a.started_at.timestamp(), a.updated_at.timestamp())
    return (a.id, a.seq, a.camera_id, *values, *times, a.model_dump_json())


def _fill_sqlite(path: Path, alerts: list[Alert]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_ALERTS)
        conn.executemany(f"INSERT INTO alerts VALUES ({', '.join('?' * 11)})", map(_old_row, alerts))
    conn.close()


def _fill_postgres(url: str, alerts: list[Alert]) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:  # one transaction
        cur.execute(OLD_ALERTS)
        cur.executemany(f"INSERT INTO alerts VALUES ({', '.join(['%s'] * 11)})", list(map(_old_row, alerts)))


@contextmanager
def _old_database(engine: str, tmp_path: Path, alerts: list[Alert]) -> Iterator[Callable[[], Store]]:
    """A database holding ``alerts`` in the alerts table as it was before the derived columns;
    yields what opens a store on it."""
    if engine == "sqlite":
        _fill_sqlite(tmp_path / "ioc.db", alerts)
        yield partial(SqliteStore, tmp_path / "ioc.db")
        return
    for url in _pg_schema_url():
        _fill_postgres(url, alerts)
        yield partial(PostgresStore, url)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_an_older_database_gains_the_columns_filled_from_the_bodies(engine: str, tmp_path: Path) -> None:
    rng = random.Random(42)
    categories = list(Category)
    alerts = [_random_alert(rng, n, categories) for n in range(1, 2 * ops_sql.BACKFILL_BATCH + 501)]
    with _old_database(engine, tmp_path, alerts) as open_store:
        store = open_store()  # adds the columns and back-fills them, in three batches
        try:
            assert store.alert_counts(RECENT_SINCE, OVERDUE_BEFORE) == _reference(alerts)
            sql_store = cast(SqlStore, store)
            assert sql_store._q("SELECT COUNT(*) FROM alerts WHERE cols_version IS NULL")[0][0] == 0
            assert sql_store.backfill_fact_columns() == 0  # once: nothing left to fill
        finally:
            store.close()
        open_store().close()  # opening again: the columns are there, nothing to add


def _plan(store: Store, sql: str, params: tuple[Any, ...]) -> str:
    sql_store = cast(SqlStore, store)
    if sql_store.dialect.name == "sqlite":
        return " | ".join(str(r[-1]) for r in sql_store._q("EXPLAIN QUERY PLAN " + sql, params))
    sql_store._q("SET enable_seqscan = off")  # a tiny table: the planner would rightly scan it
    try:
        return " | ".join(str(r[0]) for r in sql_store._q("EXPLAIN " + sql, params))
    finally:
        sql_store._q("RESET enable_seqscan")


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (ops_sql._OPEN_COUNTS, (1.0,), "alerts_open"),
        (ops_sql._RECENT_COUNTS, (1.0, float("inf")), "alerts_started"),
        (ops_sql._CATEGORIES, (), "alerts_category"),
    ],
)
def test_the_counts_walk_their_index(store: Store, sql: str, params: tuple[Any, ...], index: str) -> None:
    plan = _plan(store, sql, params)
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
