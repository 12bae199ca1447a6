"""KPI benchmark (not a test): ingest rate and KPI refresh time over N dossiers, SQLite and PostgreSQL.

For each engine, N demo-generator dossiers received over the last ``--days`` days go through
``ioc.kpi.ingest`` (validation, KPI columns, idempotent upsert; batches of 5000). Then, timed:

- ``api``: what ``GET /api/kpi/public-service?by=agency`` and ``…/overdue`` do (month KPIs, total
  and per agency, and the 100 most overdue dossiers);
  (on PostgreSQL measured again after ``VACUUM ANALYZE``, what autovacuum does on a server: the
  index-only scans need the visibility map);
- ``tick``: one refresher tick (``KpiRefresher.run_once``: snapshots and overdue alerts), the first
  one (every overdue / near-due alert starts: each is built) and a steady one (those alerts stored
  as ongoing, as in a running server).

Baselines measured in the same run, on SQLite at ``--baseline-n`` dossiers (the old path is
linear in N): the old refresh (read and parse every stored dossier, compute the same ``api``
answer in Python with :mod:`ioc.kpi.dossiers`) against the SQL path on the same store, and a
bare ``executemany`` INSERT of the same JSON rows (the storage floor) against the ingest rate.

    .venv/bin/python benchmarks/kpi_refresh.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from ioc.config.kpi_models import KpiConfig, RecordKind
from ioc.kpi import dossiers as dk
from ioc.kpi.demo import DemoFeed
from ioc.kpi.ingest import ingest
from ioc.kpi.records import Dossier
from ioc.kpi.service import KpiRefresher, KpiService, parse_period
from ioc.messages import Alert
from ioc.store.postgres import PostgresStore
from ioc.store.sql import SqlStore
from ioc.store.sqlite import SqliteStore

BATCH = 5000
ZONE = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # a Friday, 10:00 in Viet Nam: mid-month, mid-morning


def batches(n: int, days: float, config: KpiConfig) -> Iterator[list[dict[str, Any]]]:
    """The same N raw dossiers on every call (seeded), oldest first, ``BATCH`` at a time."""
    feed = DemoFeed(_Nowhere(), config.working_hours.calendar(ZONE), clock=lambda: NOW, seed=8)
    rng = random.Random(8)
    for i in range(0, n, BATCH):
        yield [
            feed.dossier(NOW - timedelta(hours=24 * days * rng.random())) for _ in range(min(BATCH, n - i))
        ]


class _Nowhere:
    def upsert_records(self, source: str, kind: RecordKind, records: Any) -> int:
        return 0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def fill(store: SqlStore, n: int, days: float, config: KpiConfig) -> float:
    """Ingest N dossiers; returns the seconds spent in ``ingest`` (generation not counted)."""
    spent = 0.0
    for raw in batches(n, days, config):
        spent += timed(lambda raw=raw: ingest(store, "bench", RecordKind.DOSSIER, raw))[0]
    return spent


def api_refresh(service: KpiService) -> None:
    month = parse_period("month", NOW, service.calendar)
    service.dossier_kpis(month, NOW, "agency")
    service.overdue(NOW, limit=100)


def old_api_refresh(service: KpiService, store: SqlStore) -> dict[str, Any]:
    """The path before SQL aggregation: parse every dossier, compute in Python."""
    items = [s.record for s in store.kpi_records(RecordKind.DOSSIER) if isinstance(s.record, Dossier)]
    month = parse_period("month", NOW, service.calendar)
    total = dk.compute(items, month, NOW, service.rules)
    groups = dk.compute_by(items, "agency", month, NOW, service.rules)
    late = sorted(
        (d for d in items if dk.is_overdue(d, NOW, service.calendar)),
        key=lambda d: -dk.overdue_seconds(d, NOW, service.calendar),
    )[:100]
    return {"total": total.as_dict(), "groups": {k: v.as_dict() for k, v in groups.items()}, "late": late}


def run_engine(name: str, store: SqlStore, n: int, days: float, config: KpiConfig) -> dict[str, Any]:
    service = KpiService(config, config.working_hours.calendar(ZONE), store)
    ingest_s = fill(store, n, days, config)
    api_refresh(service)  # warm the caches once, as a running server's are
    fresh_s = min(timed(lambda: api_refresh(service))[0] for _ in range(3))
    if name == "postgres":  # what autovacuum does on a server (it is off on the test server)
        store._q("VACUUM ANALYZE kpi_records")
    api_s = min(timed(lambda: api_refresh(service))[0] for _ in range(3))
    published: list[Any] = []
    first_s, _ = timed(lambda: KpiRefresher(service, published.append, clock=lambda: NOW).run_once())
    alerts = [m for m in published if isinstance(m, Alert)]
    for seq, a in enumerate(alerts, start=store.max_seq() + 1):
        store.save_alert(a.model_copy(update={"seq": seq}))
    steady = min(
        timed(lambda: KpiRefresher(service, lambda m: None, clock=lambda: NOW).run_once())[0]
        for _ in range(3)
    )
    month = service.dossier_kpis(parse_period("month", NOW, service.calendar), NOW)["total"]
    return {
        "engine": name,
        "n": n,
        "ingest_rate": n / ingest_s,
        "api_s": api_s,
        "fresh_s": fresh_s,
        "tick_first_s": first_s,
        "tick_s": steady,
        "alerts": len(alerts),
        "month": month,
    }


def baselines(tmp: Path, n: int, days: float, config: KpiConfig) -> dict[str, float]:
    store = SqliteStore(tmp / "baseline.db")
    service = KpiService(config, config.working_hours.calendar(ZONE), store)
    ingest_s = fill(store, n, days, config)
    old_s, old = min((timed(lambda: old_api_refresh(service, store)) for _ in range(2)), key=lambda t: t[0])
    sql_s = min(timed(lambda: api_refresh(service))[0] for _ in range(3))
    month = parse_period("month", NOW, service.calendar)
    same = service.dossier_kpis(month, NOW, "agency")["groups"] == old["groups"]
    store.close()
    raw = [r for b in batches(n, days, config) for r in b]
    floor_s = _bare_insert(tmp / "floor.db", raw)
    return {
        "n": n,
        "old_s": old_s,
        "sql_s": sql_s,
        "ingest_rate": n / ingest_s,
        "floor_rate": n / floor_s,
        "same": float(same),
    }


def _bare_insert(path: Path, raw: list[dict[str, Any]]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (source TEXT, id TEXT, body TEXT, PRIMARY KEY (source, id))")
    rows = [("bench", r["id"], json.dumps(r)) for r in raw]
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows[i : i + BATCH])
        conn.commit()
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def pg_store(url: str) -> tuple[PostgresStore, Callable[[], None]]:
    """A store in a fresh schema of ``url``, and how to drop it."""
    admin = psycopg.connect(url, autocommit=True)
    schema = f"ioc_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    store = PostgresStore(f"{url}{sep}options=-csearch_path%3D{schema}")

    def drop() -> None:
        store.close()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()

    return store, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="dossiers (the issue asks 1,000,000)")
    parser.add_argument("--days", type=float, default=365, help="received over the last DAYS days")
    parser.add_argument("--baseline-n", type=int, default=20_000, help="dossiers for the old-path baseline")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    config = KpiConfig()
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = baselines(Path(tmp), args.baseline_n, args.days, config)
        ratio = base["old_s"] / base["sql_s"]
        print(
            f"baseline at {base['n']:,} dossiers (SQLite): old refresh {base['old_s']:.2f} s, SQL refresh "
            f"{base['sql_s']:.3f} s: x{ratio:.0f} (same answer: {bool(base['same'])}); ingest "
            f"{base['ingest_rate']:,.0f} records/s vs bare INSERT {base['floor_rate']:,.0f} rows/s",
            flush=True,
        )
        for engine in args.engines.split(","):
            if engine == "sqlite":
                store: SqlStore = SqliteStore(Path(tmp) / "ioc.db")
                done: Callable[[], None] = store.close
            else:
                store, done = pg_store(args.database_url)
            try:
                r = run_engine(engine, store, args.n, args.days, config)
            finally:
                done()
            old_at_n = base["old_s"] * args.n / base["n"]
            print(
                f"{engine}: {args.n:,} dossiers over {args.days:g} days; "
                f"ingest {r['ingest_rate']:,.0f} records/s; api refresh {r['api_s']:.3f} s "
                f"(old path extrapolated {old_at_n:.0f} s: x{old_at_n / r['api_s']:.0f}); "
                f"refresher tick {r['tick_s']:.3f} s steady, {r['tick_first_s']:.2f} s first "
                f"({r['alerts']:,} alerts started); "
                + (f"api refresh before VACUUM {r['fresh_s']:.3f} s; " if engine == "postgres" else "")
                + f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            print(f"  month: {r['month']}", flush=True)


if __name__ == "__main__":
    main()
