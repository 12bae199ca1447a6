"""PostgreSQL store (psycopg 3), chosen by ``IOC_DATABASE_URL=postgresql://…``.

Several API nodes may share one database: rows are locked (``FOR UPDATE``) while a message is
merged, and a message already stored under its seq is not stored twice.

A connection that broke (PostgreSQL restarted, a network cut) is opened again by the next
statement. A read outside a transaction that finds the connection broken is tried once more on
the new connection; a write fails (its caller keeps what it was storing and tries again later,
never twice by accident) and a transaction is rolled back, so nothing half-written is kept. An
API node recovers by itself once the server is back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from ioc.store.base import StoreError
from ioc.store.sql import Dialect, Row, SqlStore

logger = logging.getLogger(__name__)

POSTGRES = Dialect(
    name="postgres", serial_pk="BIGSERIAL PRIMARY KEY", placeholder="%s", lock_rows=" FOR UPDATE"
)


class PostgresStore(SqlStore):
    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
        self._in_tx = False
        self._create_schema()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn.broken or self._conn.closed:
            logger.warning("PostgreSQL connection lost; connecting again to %s", _redact(self._url))
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        return self._conn

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # every caller holds self._lock, so no other thread swaps the connection under us
        conn = self._connection()
        try:
            cur = conn.execute(sql, tuple(params))
        except psycopg.OperationalError:
            if self._in_tx or not conn.broken or not sql.lstrip().upper().startswith("SELECT"):
                raise
            cur = self._connection().execute(sql, tuple(params))  # once, on a fresh connection
        return list(cur.fetchall()) if cur.description is not None else []

    def _exec_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        with self._connection().cursor() as cur:
            cur.executemany(sql, [tuple(r) for r in rows])  # pipelined
            return cur.rowcount

    def _begin(self) -> None:
        self._connection().execute("BEGIN")
        self._in_tx = True

    def _commit(self) -> None:
        self._in_tx = False
        super()._commit()

    def _rollback(self) -> None:
        self._in_tx = False
        if not self._conn.broken:  # a broken connection's transaction is gone with it
            super()._rollback()


def _redact(url: str) -> str:
    """Hide a password in a URL before it reaches a log or an error message."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
