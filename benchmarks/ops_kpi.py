"""Operations KPI benchmark (not a test): one ``OperationsKpiPublisher.publish_once`` over N stored
alerts, counted in SQL, against the old Python path measured in the same run.

The old path (the baseline) is what the publisher did before: load every alert of the last 24 h,
every new and every acknowledged one (at most 5000 each, parsed from JSON), then count them in
Python (:func:`ioc.kpi.operations.operations_kpis` and ``operations_by_category``). For each N it
prints the median time of a tick, the peak of Python memory during one (tracemalloc: what the
tick allocates on the heap; SQLite's own page cache is C memory, bounded, and not in it), the
ratio old / SQL, and whether the two paths published the same snapshots (they cannot past the
cap: the old one counted at most 5000 of a kind). PostgreSQL is measured after ``VACUUM
ANALYZE``, which autovacuum runs after a bulk load.

The alerts span 7 days, one category of four at random: 60 % instant ``info`` line crossings that
nobody acknowledges (they stay ``new``), 40 % warnings and critical alerts, mostly resolved, some
acknowledged, a few new; a tenth of those still ongoing.

    .venv/bin/python -m benchmarks.ops_kpi --n 1000 10000 100000
    .venv/bin/python -m benchmarks.ops_kpi --database-url postgresql://127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ioc.kpi.operations import OperationsKpiPublisher, operations_by_category, operations_kpis
from ioc.messages import Alert, AlertStatus, Category, KpiSnapshot
from ioc.store.base import AlertQuery, Store
from ioc.store.sql import SqlStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OVERDUE = timedelta(minutes=15)
WINDOW = timedelta(hours=24)
SPAN = timedelta(days=7)
MAX_ALERTS = 5000


def make_alerts(n: int, rng: random.Random) -> list[Alert]:
    return [_alert(i, rng) for i in range(1, n + 1)]


def _alert(i: int, rng: random.Random) -> Alert:
    started = NOW - SPAN * rng.random()
    crossing = rng.random() < 0.6
    status = (
        AlertStatus.NEW
        if crossing
        else rng.choices(list(AlertStatus), weights=(1, 1, 8))[0]  # new, acknowledged, resolved
    )
    ongoing = not crossing and rng.random() < 0.1
    acked = status is not AlertStatus.NEW and rng.random() < 0.9
    return Alert.model_validate(
        {
            "id": f"cam{i % 40}-a{i}",
            "seq": i,
            "camera_id": f"cam{i % 40}",
            "rule_id": "line-1" if crossing else "zone-1",
            "rule_type": "line_crossing" if crossing else "intrusion",
            "state": "start" if crossing or ongoing else "end",
            "severity": "info" if crossing else rng.choice(["warning", "critical"]),
            "category": rng.choice(list(Category)),
            "started_at": started,
            "updated_at": started,
            "ended_at": None if ongoing else started + timedelta(seconds=0 if crossing else 90),
            "status": status,
            "acknowledged_by": "olga" if acked else None,
            "acknowledged_at": started + timedelta(seconds=rng.randrange(30, 1800)) if acked else None,
            "message": {"vi": f"Cảnh báo {i}", "en": f"Alert {i}"},
        }
    )


def fill(store: SqlStore, alerts: list[Alert]) -> None:
    """Straight into the alerts table, 5000 rows per transaction (save_alert takes one each)."""
    for start in range(0, len(alerts), 5000):
        with store._tx():
            for alert in alerts[start : start + 5000]:
                store._write_row(alert)


def old_publish(store: Store, publish: Callable[[KpiSnapshot], object]) -> None:
    """The publisher before SQL counts: load (capped), parse, count in Python."""
    recent = store.query_alerts(AlertQuery(since=NOW - WINDOW, limit=MAX_ALERTS))
    pending = [
        a
        for status in (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED)
        for a in store.query_alerts(AlertQuery(status=status, limit=MAX_ALERTS))
    ]
    alerts = list({a.id: a for a in (*pending, *recent)}.values())
    publish(operations_kpis(alerts, NOW, OVERDUE))
    for snapshot in operations_by_category(alerts, NOW, OVERDUE):
        publish(snapshot)


def measure(tick: Callable[[list[KpiSnapshot]], object], repeat: int) -> tuple[float, int, list[KpiSnapshot]]:
    """Median seconds of ``repeat`` ticks, peak traced bytes of one, what the last one published."""
    times = []
    published: list[KpiSnapshot] = []
    for _ in range(repeat):
        published = []
        t0 = time.perf_counter()
        tick(published)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    tick([])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak, published


def run(n: int, store: SqlStore, repeat: int) -> None:
    fill(store, make_alerts(n, random.Random(n)))
    if store.dialect.name == "postgres":
        store._q("VACUUM ANALYZE alerts")  # what autovacuum does after a bulk load
    old_s, old_peak, old_out = measure(lambda out: old_publish(store, out.append), repeat)

    def sql_tick(out: list[KpiSnapshot]) -> Any:
        return OperationsKpiPublisher(store, out.append, clock=lambda: NOW).publish_once()

    new_s, new_peak, new_out = measure(sql_tick, repeat)
    shown = {v.key: v.value for v in new_out[0].values}
    old_shown = {v.key: v.value for v in old_out[0].values}
    same = "same snapshots" if old_out == new_out else "DIFFERENT snapshots"
    print(
        f"{n:>8,} alerts | old {old_s * 1000:8.1f} ms {old_peak / 2**20:7.1f} MiB | "
        f"SQL {new_s * 1000:7.1f} ms {new_peak / 2**20:6.2f} MiB | "
        f"ratio {old_s / new_s:6.1f}x time, {old_peak / max(new_peak, 1):6.0f}x memory | {same}"
        f" (open {old_shown['open_alerts']:.0f} / {shown['open_alerts']:.0f},"
        f" 24 h {old_shown['alerts_24h']:.0f} / {shown['alerts_24h']:.0f})"
    )


def write_cost(store: SqlStore, count: int) -> float:
    """Seconds per ``save_alert`` (one transaction each, as the API node stores), ``count`` alerts."""
    alerts = [
        a.model_copy(update={"id": f"w-{a.id}", "seq": 10**9 + a.seq})
        for a in make_alerts(count, random.Random(1))
    ]
    t0 = time.perf_counter()
    for alert in alerts:
        store.save_alert(alert)
    return (time.perf_counter() - t0) / count


def writes(url: str | None, tmp: Path, count: int) -> None:
    """The price of the new indexes: save_alert with them, then on a store without them."""
    per_alert = []
    for drop in (False, True):
        store, close = open_store(url, tmp, -1 - int(drop))
        try:
            for name in ("alerts_open", "alerts_started", "alerts_category") if drop else ():
                store._q(f"DROP INDEX {name}")
            per_alert.append(write_cost(store, count))
        finally:
            close()
    with_, without = per_alert
    print(
        f"save_alert ({count:,}, one transaction each): {with_ * 1e3:.2f} ms with the counting indexes,"
        f" {without * 1e3:.2f} ms without; ratio {with_ / without:.2f}x"
    )


def open_store(url: str | None, tmp: Path, n: int) -> tuple[SqlStore, Callable[[], None]]:
    if url is None:
        from ioc.store.sqlite import SqliteStore

        sqlite = SqliteStore(tmp / f"ops-{n}.db")
        return sqlite, sqlite.close
    import psycopg

    from ioc.store.postgres import PostgresStore

    schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    pg = PostgresStore(f"{url}?options=-csearch_path%3D{schema}")

    def close() -> None:
        pg.close()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()

    return pg, close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="stored alerts")
    parser.add_argument("--repeat", type=int, default=5, help="ticks timed per path (median)")
    parser.add_argument(
        "--writes", type=int, default=2000, help="alerts saved to price the indexes (0: skip)"
    )
    parser.add_argument(
        "--database-url", help="postgresql://… (a schema is made and dropped); default SQLite"
    )
    args = parser.parse_args()
    print(f"store: {'PostgreSQL' if args.database_url else 'SQLite'}; old = load + parse + count in Python")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            store, close = open_store(args.database_url, Path(tmp), n)
            try:
                run(n, store, args.repeat)
            finally:
                close()
        if args.writes:
            writes(args.database_url, Path(tmp), args.writes)


if __name__ == "__main__":
    main()
