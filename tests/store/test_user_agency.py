"""The agency of an agency-role user on both stores, and stores created before the column existed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ioc.store.base import Store
from ioc.store.postgres import PostgresStore
from ioc.store.sqlite import SqliteStore
from tests.store.conftest import _pg_schema_url

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
OLD_USERS = """CREATE TABLE users (username TEXT PRIMARY KEY, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_ts DOUBLE PRECISION NOT NULL)"""


def test_agency_is_kept_and_listed(store: Store) -> None:
    made = store.add_user("tuphap", "agency", "h1", NOW, agency="Sở Tư pháp")
    store.add_user("olga", "operator", "h2", NOW)
    assert made.agency == "Sở Tư pháp"
    got = store.get_user("tuphap")
    assert got is not None and (got.role, got.agency) == ("agency", "Sở Tư pháp")
    assert [(u.username, u.agency) for u in store.list_users()] == [("olga", None), ("tuphap", "Sở Tư pháp")]


def test_sqlite_store_made_before_agencies_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "ioc.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_USERS)
        conn.execute("INSERT INTO users VALUES ('olga', 'operator', 'h', 1.0)")
    conn.close()
    store = SqliteStore(path)
    try:
        old = store.get_user("olga")
        assert old is not None and old.agency is None
        store.add_user("tuphap", "agency", "h", NOW, agency="Sở Tư pháp")
        assert [u.agency for u in store.list_users()] == [None, "Sở Tư pháp"]
    finally:
        store.close()
    SqliteStore(path).close()  # opening again: the column is there, nothing to add


def test_postgres_store_made_before_agencies_gains_the_column() -> None:
    for url in _pg_schema_url():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_USERS)
            conn.execute("INSERT INTO users VALUES ('olga', 'operator', 'h', 1.0)")
        store = PostgresStore(url)
        try:
            old = store.get_user("olga")
            assert old is not None and old.agency is None
            store.add_user("tuphap", "agency", "h", NOW, agency="Sở Tư pháp")
            assert [u.agency for u in store.list_users()] == [None, "Sở Tư pháp"]
        finally:
            store.close()
