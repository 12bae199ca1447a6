"""PostgreSQL store (psycopg 3), chosen by ``IOC_DATABASE_URL=postgresql://…``.

Several API nodes may share one database: rows are locked (``FOR UPDATE``) while a message is
merged, and a message already stored under its seq is not stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ioc.store.base import StoreError
from ioc.store.sql import Dialect, Row, SqlStore

POSTGRES = Dialect(
    name="postgres", serial_pk="BIGSERIAL PRIMARY KEY", placeholder="%s", lock_rows=" FOR UPDATE"
)


class PostgresStore(SqlStore):
    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        super().__init__()
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
        self._create_schema()

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn.execute(sql, tuple(params))
        return list(cur.fetchall()) if cur.description is not None else []

    def _begin(self) -> None:
        self._conn.execute("BEGIN")


def _redact(url: str) -> str:
    """Hide a password in a URL before it reaches a log or an error message."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
