"""KPI benchmark (not a test): ingest rate and KPI refresh time over N dossiers in SQLite.

Prints, each against a baseline measured in the same run:
- ingest: records/s through ``ioc.kpi.ingest`` (validation + idempotent upsert, batches of 5000)
  vs a bare ``executemany`` INSERT of the same JSON rows (the storage floor);
- refresh: one full public-service refresh (load + parse + dossier KPIs per agency + overdue)
  vs only reading the rows (the I/O floor). The issue's target is a refresh ≤ 1 s at 1,000,000.

    .venv/bin/python benchmarks/kpi_refresh.py --n 100000
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ioc.config.kpi_models import KpiConfig, RecordKind
from ioc.kpi.demo import DemoFeed
from ioc.kpi.ingest import ingest
from ioc.kpi.service import KpiService, parse_period
from ioc.store.sqlite import SqliteStore

BATCH = 5000


def dossiers(n: int, store: SqliteStore, config: KpiConfig) -> list[dict[str, Any]]:
    calendar = config.working_hours.calendar("Asia/Ho_Chi_Minh")
    now = datetime.now(UTC)
    feed = DemoFeed(store, calendar, clock=lambda: now)
    return [feed.dossier(now - timedelta(hours=24 * 30 * i / n)) for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="dossiers (the issue asks 1,000,000)")
    n = parser.parse_args().n
    config = KpiConfig()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "ioc.db")
        raw = dossiers(n, store, config)
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            ingest(store, "bench", RecordKind.DOSSIER, raw[i : i + BATCH])
        ingest_s = time.perf_counter() - t0
        floor_s = _bare_insert(Path(tmp) / "floor.db", raw)
        service = KpiService(config, config.working_hours.calendar("Asia/Ho_Chi_Minh"), store)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        rows = store._q("SELECT body FROM kpi_records WHERE kind = 'dossier'")
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        service.dossier_kpis(parse_period("month", now, service.calendar), now, "agency")
        service.overdue(now)
        refresh_s = time.perf_counter() - t0
        store.close()
    print(f"dossiers: {n:,} (rows read: {len(rows):,})")
    print(f"ingest:  {n / ingest_s:,.0f} records/s; bare INSERT {n / floor_s:,.0f} rows/s", end="")
    print(f"; ratio {ingest_s / floor_s:.1f}x")
    print(f"refresh: {refresh_s:.2f} s (target ≤ 1 s at 1,000,000); reading rows only {read_s:.2f} s", end="")
    print(f"; ratio {refresh_s / read_s:.1f}x")


def _bare_insert(path: Path, raw: list[dict[str, Any]]) -> float:
    import json

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


if __name__ == "__main__":
    main()
