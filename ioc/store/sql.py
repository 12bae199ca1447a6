"""The SQL behind both stores. SQLite and PostgreSQL differ only in a :class:`Dialect`.

Statements are written with ``?`` placeholders; the PostgreSQL dialect rewrites them to ``%s``.
Timestamps are stored as Unix seconds (``DOUBLE PRECISION``) so both engines compare them the
same way; the full message is kept as JSON next to the indexed columns.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ioc.messages import Alert, FlowCount
from ioc.store.base import (
    REPUBLISH,
    Action,
    AlertQuery,
    FlowQuery,
    HistoryEntry,
    UnknownAlertError,
    UnknownUserError,
    UserExistsError,
    UserRecord,
    apply_workflow,
    is_republish,
    merge_message,
)
from ioc.store.kpi_dossiers import DOSSIER_COLUMNS, dossier_indexes
from ioc.store.kpi_sql import KpiTables, kpi_schema
from ioc.store.ops_sql import FACT_COLUMNS, OpsQueries, fact_values
from ioc.store.sessions_sql import SessionTables, session_schema

Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    serial_pk: str
    placeholder: str
    lock_rows: str


def schema(d: Dialect) -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY, seq BIGINT NOT NULL, camera_id TEXT NOT NULL, category TEXT NOT NULL,
            rule_type TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL,
            started_ts DOUBLE PRECISION NOT NULL, updated_ts DOUBLE PRECISION NOT NULL,
            body TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS alerts_seq ON alerts (seq)",
        "CREATE INDEX IF NOT EXISTS alerts_camera ON alerts (camera_id, seq)",
        "CREATE INDEX IF NOT EXISTS alerts_updated ON alerts (updated_ts)",
        f"""CREATE TABLE IF NOT EXISTS alert_history (
            id {d.serial_pk}, alert_id TEXT NOT NULL, seq BIGINT UNIQUE, action TEXT NOT NULL,
            at_ts DOUBLE PRECISION NOT NULL, actor TEXT, detail TEXT NOT NULL, body TEXT)""",
        "CREATE INDEX IF NOT EXISTS history_alert ON alert_history (alert_id, id)",
        """CREATE TABLE IF NOT EXISTS flows (
            camera_id TEXT NOT NULL, rule_id TEXT NOT NULL, line_id TEXT NOT NULL, category TEXT NOT NULL,
            started_ts DOUBLE PRECISION NOT NULL, ended_ts DOUBLE PRECISION NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (camera_id, rule_id, started_ts))""",
        "CREATE INDEX IF NOT EXISTS flows_ended ON flows (ended_ts)",
        """CREATE TABLE IF NOT EXISTS users (
            username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            created_ts DOUBLE PRECISION NOT NULL, agency TEXT)""",
        *kpi_schema(),
        *session_schema(),
    ]


def ts(dt: datetime) -> float:
    """Unix seconds; a naive datetime is taken as UTC."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def from_ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


class _Connection(Protocol):
    """What both engines' connections (sqlite3, psycopg in autocommit mode) offer the base class."""

    def execute(self, sql: str, /) -> object: ...

    def close(self) -> None: ...


class SqlStore(KpiTables, SessionTables, OpsQueries, ABC):
    """Every statement runs under one lock: one writer at a time, reads never see half a write."""

    dialect: Dialect
    _conn: _Connection

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # -- the engine-specific part -------------------------------------------------------------
    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def _exec_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run ``sql`` once per parameter row in one batch call; returns how many rows it changed."""

    @abstractmethod
    def _begin(self) -> None: ...

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def _close(self) -> None:
        self._conn.close()

    # -- helpers ----------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.dialect.placeholder) if self.dialect.placeholder != "?" else sql

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._exec(self._sql(sql), params)

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._exec_many(self._sql(sql), rows)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock:
            self._begin()
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            self._commit()

    def _create_schema(self) -> None:
        with self._tx():
            for stmt in schema(self.dialect):
                self._q(stmt)
            self._add_missing_columns()
            self._add_fact_columns()
            for stmt in dossier_indexes():
                self._q(stmt)
        self.backfill_fact_columns()

    def _add_missing_columns(self) -> None:
        """Columns added after a store was first created (an older users table has no agency, older
        KPI rows have no dossier columns: they are filled in before dossier KPIs are next counted,
        see :meth:`~ioc.store.kpi_dossiers.DossierQueries.ensure_dossier_facts`)."""
        added = [("users", "agency", "TEXT"), *(("kpi_records", n, t) for n, t in DOSSIER_COLUMNS)]
        for table, column, sql_type in added:
            if self.dialect.name == "sqlite":
                if not any(r[1] == column for r in self._q(f"PRAGMA table_info({table})")):
                    self._q(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
            else:
                self._q(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}")

    def _current(self, alert_id: str, lock: bool = False) -> Alert | None:
        rows = self._q(
            "SELECT body FROM alerts WHERE id = ?" + (self.dialect.lock_rows if lock else ""), (alert_id,)
        )
        return Alert.model_validate_json(rows[0][0]) if rows else None

    def _write_row(self, alert: Alert) -> None:
        self._q(_UPSERT_ALERT, _row(alert))

    # -- alerts -------------------------------------------------------------------------------
    def max_seq(self) -> int:
        with self._lock:
            rows = self._q("SELECT MAX(seq) FROM alert_history")
        return int(rows[0][0] or 0)

    def save_alert(self, alert: Alert) -> Alert:
        return self.save_alerts([alert])[0]

    def save_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        for alert in alerts:
            if alert.seq is None:
                raise ValueError(f"alert {alert.id!r} has no seq: publish it through the bus")
        if not alerts:
            return []
        with self._tx():
            return self._save_burst(alerts)

    def _save_burst(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Set-wise, so a burst costs a handful of round trips, not four per alert: which seqs are
        stored already, the current rows (locked, in id order), then the merges in order, one batch
        of row upserts and one of history inserts."""
        done = self._bodies("SELECT seq, body FROM alert_history WHERE seq IN ", [a.seq for a in alerts])
        ids = sorted({a.id for a in alerts if a.seq not in done})
        lock = " ORDER BY id" + self.dialect.lock_rows
        current = self._bodies("SELECT id, body FROM alerts WHERE id IN ", ids, lock)
        rows: dict[str, Alert] = {}
        history: list[tuple[Any, ...]] = []
        out: list[Alert] = []
        for alert in alerts:
            if alert.seq not in done:
                merged = merge_message(current.get(alert.id), alert)
                history.append(_history_row(current.get(alert.id), alert, merged))
                current[alert.id] = rows[alert.id] = done[alert.seq] = merged
            out.append(done[alert.seq])
        self._exec_many(self._sql(_UPSERT_ALERT), [_row(a) for a in rows.values()])
        self._exec_many(self._sql(_INSERT_MESSAGE), history)
        return out

    def _bodies(self, select: str, keys: Sequence[Any], suffix: str = "") -> dict[Any, Alert]:
        """``{key: alert}`` from ``select`` + ``(?, …)`` over ``keys``, a few hundred at a time."""
        found: dict[Any, Alert] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            sql = select + "(" + ", ".join("?" * len(chunk)) + ")" + suffix
            found.update((key, Alert.model_validate_json(body)) for key, body in self._q(sql, chunk))
        return found

    def apply_action(
        self, alert_id: str, action: Action, actor: str, at: datetime, detail: dict[str, Any]
    ) -> Alert:
        with self._tx():
            current = self._current(alert_id, lock=True)
            if current is None:
                raise UnknownAlertError(f"unknown alert {alert_id!r}")
            changed = apply_workflow(current, action, actor, at, detail)
            self._write_row(changed)
            self._q(
                "INSERT INTO alert_history (alert_id, seq, action, at_ts, actor, detail, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (alert_id, None, action.value, ts(at), actor, json.dumps(detail), None),
            )
        return changed

    def get_alert(self, alert_id: str) -> Alert | None:
        with self._lock:
            return self._current(alert_id)

    def ongoing_alert_ids(self, prefix: str) -> list[str]:
        """Ids starting with ``prefix`` of the alerts not ended (read without parsing any alert)."""
        with self._lock:
            rows = self._q("SELECT id FROM alerts WHERE state <> 'end' AND id LIKE ?", (prefix + "%",))
        return [str(r[0]) for r in rows if str(r[0]).startswith(prefix)]

    def messages_after(self, seq: int, limit: int) -> list[Alert]:
        with self._lock:
            rows = self._q("SELECT body FROM alert_history WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [Alert.model_validate_json(r[0]) for r in rows]

    def query_alerts(self, query: AlertQuery) -> list[Alert]:
        where, params = _where(query)
        sql = "SELECT body FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            rows = self._q(sql + " ORDER BY seq DESC LIMIT ?", [*params, query.limit])
        return [Alert.model_validate_json(r[0]) for r in rows]

    def history(self, alert_id: str) -> list[HistoryEntry]:
        with self._lock:
            rows = self._q(
                "SELECT alert_id, action, at_ts, seq, actor, detail FROM alert_history "
                "WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
        entries = [
            HistoryEntry(
                alert_id=r[0],
                action=Action(r[1]),
                at=from_ts(r[2]),
                seq=r[3],
                actor=r[4],
                detail=json.loads(r[5]),
            )
            for r in rows
        ]
        return [e for e in entries if not e.detail.get(REPUBLISH)]

    def prune_alerts(self, before: datetime, batch: int = 500) -> int:
        """Delete in batches, one short transaction each, so publishing never waits long."""
        cutoff = ts(before)
        total = 0
        while True:
            with self._tx():
                rows = self._q("SELECT id FROM alerts WHERE updated_ts < ? LIMIT ?", (cutoff, batch))
                ids = [r[0] for r in rows]
                if ids:
                    marks = ", ".join("?" for _ in ids)
                    self._q(f"DELETE FROM alert_history WHERE alert_id IN ({marks})", ids)
                    self._q(f"DELETE FROM alerts WHERE id IN ({marks})", ids)
            total += len(ids)
            if len(ids) < batch:
                return total

    # -- flows --------------------------------------------------------------------------------
    def save_flow(self, flow: FlowCount) -> None:
        with self._tx():
            self._q(
                """INSERT INTO flows (camera_id, rule_id, line_id, category, started_ts, ended_ts, body)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (camera_id, rule_id, started_ts) DO UPDATE SET line_id = excluded.line_id,
                       category = excluded.category, ended_ts = excluded.ended_ts, body = excluded.body""",
                (
                    flow.camera_id,
                    flow.rule_id,
                    flow.line_id,
                    flow.category.value,
                    ts(flow.started_at),
                    ts(flow.ended_at),
                    flow.model_dump_json(),
                ),
            )

    def query_flows(self, query: FlowQuery) -> list[FlowCount]:
        where, params = _flow_where(query)
        sql = "SELECT body FROM flows" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            rows = self._q(
                sql + " ORDER BY started_ts DESC, camera_id, rule_id LIMIT ?", [*params, query.limit]
            )
        return [FlowCount.model_validate_json(r[0]) for r in reversed(rows)]

    def prune_flows(self, before: datetime) -> int:
        with self._tx():
            rows = self._q("SELECT COUNT(*) FROM flows WHERE ended_ts < ?", (ts(before),))
            self._q("DELETE FROM flows WHERE ended_ts < ?", (ts(before),))
        return int(rows[0][0])

    # -- users --------------------------------------------------------------------------------
    def add_user(
        self, username: str, role: str, password_hash: str, at: datetime, agency: str | None = None
    ) -> UserRecord:
        with self._tx():
            if self._q("SELECT 1 FROM users WHERE username = ?", (username,)):
                raise UserExistsError(f"user {username!r} already exists")
            self._q(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (username, role, password_hash, ts(at), agency),
            )
        return UserRecord(username, role, password_hash, from_ts(ts(at)), agency)

    def get_user(self, username: str) -> UserRecord | None:
        with self._lock:
            rows = self._q(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,))
        return _user(rows[0]) if rows else None

    def list_users(self) -> list[UserRecord]:
        with self._lock:
            rows = self._q(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")
        return [_user(r) for r in rows]

    def set_password(self, username: str, password_hash: str) -> None:
        with self._tx():
            if not self._q("SELECT 1 FROM users WHERE username = ?", (username,)):
                raise UnknownUserError(f"unknown user {username!r}")
            self._q("UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username))

    def remove_user(self, username: str) -> None:
        with self._tx():
            if not self._q("SELECT 1 FROM users WHERE username = ?", (username,)):
                raise UnknownUserError(f"unknown user {username!r}")
            self._q("DELETE FROM users WHERE username = ?", (username,))

    def ping(self) -> bool:
        try:
            with self._lock:
                return bool(self._q("SELECT 1"))
        except Exception:
            return False

    def close(self) -> None:
        with self._lock:
            self._close()


def _in_clause(column: str, n: int) -> str:
    return f"{column} IN (" + ", ".join("?" for _ in range(n)) + ")"


def _flow_where(query: FlowQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("camera_id", query.camera_id), ("line_id", query.line_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.categories is not None:
        if not query.categories:
            return ["1 = 0"], []  # no category visible: nothing matches
        cats = sorted(c.value for c in query.categories)
        where.append(_in_clause("category", len(cats)))
        params.extend(cats)
    if query.since is not None:
        where.append("ended_ts > ?")
        params.append(ts(query.since))
    if query.until is not None:
        where.append("started_ts < ?")
        params.append(ts(query.until))
    return where, params


_ALERT_COLUMNS = (
    "id, seq, camera_id, category, rule_type, severity, status, state, started_ts, updated_ts, body, "
    + ", ".join(name for name, _ in FACT_COLUMNS)
).split(", ")
_UPSERT_ALERT = (
    f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES ({', '.join('?' for _ in _ALERT_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _ALERT_COLUMNS if c != "id")
)

_USER_COLUMNS = "username, role, password_hash, created_ts, agency"


def _user(row: Row) -> UserRecord:
    return UserRecord(row[0], row[1], row[2], from_ts(row[3]), row[4])


def _where(query: AlertQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    simple = {
        "camera_id": query.camera_id,
        "rule_type": query.rule_type,
        "severity": query.severity.value if query.severity else None,
        "status": query.status.value if query.status else None,
    }
    for column, value in simple.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.categories is not None:
        if not query.categories:
            return ["1 = 0"], []  # no category visible: nothing matches
        cats = sorted(c.value for c in query.categories)
        where.append(_in_clause("category", len(cats)))
        params.extend(cats)
    bounds: tuple[tuple[str, datetime | None], ...] = (
        ("started_ts >= ?", query.since),
        ("started_ts < ?", query.until),
    )
    for clause, moment in bounds:
        if moment is not None:
            where.append(clause)
            params.append(ts(moment))
    if query.before_seq is not None:
        where.append("seq < ?")
        params.append(query.before_seq)
    return where, params


_INSERT_MESSAGE = (
    "INSERT INTO alert_history (alert_id, seq, action, at_ts, actor, detail, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _row(alert: Alert) -> tuple[Any, ...]:
    return (
        alert.id,
        alert.seq,
        alert.camera_id,
        alert.category.value,
        alert.rule_type,
        alert.severity.value,
        alert.status.value,
        alert.state.value,
        ts(alert.started_at),
        ts(alert.updated_at),
        alert.model_dump_json(),
        *fact_values(alert),
    )


def _history_row(current: Alert | None, alert: Alert, merged: Alert) -> tuple[Any, ...]:
    """The ``alert_history`` row of a published message."""
    republish = is_republish(current, alert)
    detail = {"state": alert.state.value} | ({REPUBLISH: True} if republish else {})
    at = datetime.now(UTC) if republish else alert.updated_at
    body = merged.model_dump_json()
    return (alert.id, alert.seq, Action.MESSAGE.value, ts(at), None, json.dumps(detail), body)
