"""Operations KPI counts in SQL (both engines, same SQL), exactly as :mod:`ioc.kpi.operations` defines them.

Besides its indexed ``status``, ``state``, ``severity`` and ``started_ts`` columns, each row of
``alerts`` carries ``ended_ts`` and ``acknowledged_ts`` (Unix seconds, NULL when unset), written
with the row by ``SqlStore._write_row``, and ``cols_version``: the version of these derived columns
the row was written with (:data:`COLS_VERSION`). A database created before they existed gets the
columns by ``ALTER TABLE`` at start, and its rows (``cols_version`` NULL) are back-filled from their
JSON body once, :data:`BACKFILL_BATCH` rows per transaction.

:meth:`OpsQueries.alert_counts` is two ``GROUP BY category`` queries, each one range of an index:

- the open alerts, through the partial index ``alerts_open`` (its ``WHERE`` is :data:`OPEN`, the
  same text the query uses, so both planners pick it): what is open now, not the history;
- the alerts started in the window, through ``alerts_started``, which also carries every column
  the query reads (covering: no table lookups, no JSON).

A tick therefore costs what is open plus what started in the last 24 h, its memory one row per
category, whatever the number of stored alerts.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ioc.messages import Alert, AlertState, AlertStatus, Category, Severity
from ioc.store.base import AlertCounts

if TYPE_CHECKING:
    from ioc.store.sql import Dialect

COLS_VERSION = 1
FACT_COLUMNS = (
    ("ended_ts", "DOUBLE PRECISION"),
    ("acknowledged_ts", "DOUBLE PRECISION"),
    ("cols_version", "INTEGER"),
)
BACKFILL_BATCH = 1000

logger = logging.getLogger(__name__)

_NEW, _RESOLVED, _INFO = AlertStatus.NEW.value, AlertStatus.RESOLVED.value, Severity.INFO.value
_END = AlertState.END.value
AWAITS_ACK = f"status = '{_NEW}' AND severity <> '{_INFO}'"
"""New and not ``info`` (``awaits_ack``)."""
OPEN = f"status <> '{_RESOLVED}' AND ((ended_ts IS NULL AND state <> '{_END}') OR ({AWAITS_ACK}))"
"""Not resolved, and ongoing or awaiting acknowledgement (``is_open``)."""


def _ts(dt: datetime | None) -> float | None:
    return None if dt is None else (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def fact_values(alert: Alert) -> tuple[Any, ...]:
    """The :data:`FACT_COLUMNS` values of ``alert``, in that order."""
    return (_ts(alert.ended_at), _ts(alert.acknowledged_at), COLS_VERSION)


def ops_indexes() -> list[str]:
    """Created after the columns exist (an older database gets them by ``ALTER TABLE`` first)."""
    return [
        f"""CREATE INDEX IF NOT EXISTS alerts_open
            ON alerts (category, status, severity, started_ts) WHERE {OPEN}""",
        """CREATE INDEX IF NOT EXISTS alerts_started
           ON alerts (started_ts, category, severity, status, acknowledged_ts)""",
        "CREATE INDEX IF NOT EXISTS alerts_category ON alerts (category)",
        "CREATE INDEX IF NOT EXISTS alerts_cols_version ON alerts (seq) WHERE cols_version IS NULL",
    ]


_OPEN_COUNTS = f"""SELECT category, COUNT(*),
        SUM(CASE WHEN {AWAITS_ACK} THEN 1 ELSE 0 END),
        SUM(CASE WHEN {AWAITS_ACK} AND started_ts < ? THEN 1 ELSE 0 END)
    FROM alerts WHERE {OPEN} GROUP BY category"""

_RECENT_COUNTS = f"""SELECT category, COUNT(*),
        SUM(CASE WHEN severity <> '{_INFO}' THEN 1 ELSE 0 END),
        SUM(CASE WHEN severity <> '{_INFO}' AND status <> '{_NEW}' THEN 1 ELSE 0 END),
        COUNT(acknowledged_ts), SUM(acknowledged_ts - started_ts)
    FROM alerts WHERE started_ts >= ? AND started_ts < ? GROUP BY category"""
"""The upper bound (+inf) only tells SQLite's planner, which keeps no statistics, that this is a
range: with a one-sided one it scans ``alerts_category`` whole instead, to save a sort."""

_CATEGORIES = " UNION ALL ".join(
    f"SELECT category FROM (SELECT category FROM alerts WHERE category = '{c.value}' LIMIT 1) AS c{i}"
    for i, c in enumerate(Category)
)


class OpsQueries:
    """Mixed into ``SqlStore``, which provides ``_q``, ``_tx``, ``_lock`` and ``dialect``."""

    _lock: threading.RLock
    dialect: Dialect

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _add_fact_columns(self) -> None:
        """Add :data:`FACT_COLUMNS` where missing, then their indexes (inside the schema's transaction)."""
        if self.dialect.name == "sqlite":
            have = {str(r[1]) for r in self._q("PRAGMA table_info(alerts)")}
            for name, sql_type in FACT_COLUMNS:
                if name not in have:
                    self._q(f"ALTER TABLE alerts ADD COLUMN {name} {sql_type}")
        else:
            for name, sql_type in FACT_COLUMNS:
                self._q(f"ALTER TABLE alerts ADD COLUMN IF NOT EXISTS {name} {sql_type}")
        for stmt in ops_indexes():
            self._q(stmt)

    def backfill_fact_columns(self, batch: int = BACKFILL_BATCH) -> int:
        """Fill the derived columns of the rows written before they existed, from each row's body,
        ``batch`` rows per transaction; returns how many rows were filled (0 once done). A row
        rewritten meanwhile (``cols_version`` set) is left as written."""
        done = 0
        while True:
            with self._tx():
                rows = self._q(
                    "SELECT id, body FROM alerts WHERE cols_version IS NULL ORDER BY seq LIMIT ?", (batch,)
                )
                for alert_id, body in rows:
                    self._q(
                        "UPDATE alerts SET ended_ts = ?, acknowledged_ts = ?, cols_version = ? "
                        "WHERE id = ? AND cols_version IS NULL",
                        (*fact_values(Alert.model_validate_json(body)), alert_id),
                    )
            if rows and not done:
                logger.info("filling ended_ts and acknowledged_ts of the alerts stored before they existed")
            done += len(rows)
            if len(rows) < batch:
                if done:
                    logger.info("filled the columns of %d stored alerts", done)
                return done

    def alert_counts(self, recent_since: datetime, overdue_before: datetime) -> dict[Category, AlertCounts]:
        """See :meth:`ioc.store.base.Store.alert_counts`."""
        with self._lock:
            cats = self._q(_CATEGORIES)
            open_rows = self._q(_OPEN_COUNTS, (_ts(overdue_before),))
            recent_rows = self._q(_RECENT_COUNTS, (_ts(recent_since), math.inf))
        counts = {Category(r[0]): AlertCounts() for r in cats}
        for cat, open_, unack, overdue in open_rows:
            counts[Category(cat)] = AlertCounts(
                open=int(open_), unacknowledged=int(unack), overdue=int(overdue)
            )
        for cat, recent, to_handle, handled, acked, ack_seconds in recent_rows:
            counts[Category(cat)] += AlertCounts(
                recent=int(recent),
                recent_to_handle=int(to_handle),
                recent_handled=int(handled),
                recent_acknowledged=int(acked),
                recent_ack_seconds=float(ack_seconds or 0.0),
            )
        return counts
