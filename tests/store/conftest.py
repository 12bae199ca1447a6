"""Both stores, for real: SQLite in a tmp dir, PostgreSQL (127.0.0.1:5432, db ``test``) in a fresh
schema per test. PostgreSQL tests skip with the reason when the server cannot be reached, and
fail instead when ``CI`` is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ioc.store.base import Store
from ioc.store.postgres import PostgresStore
from ioc.store.sqlite import SqliteStore

PG_URL = "postgresql://127.0.0.1:5432/test"


def _pg_schema_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} (CI is set: a real service must run): {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    schema = f"ioc_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "ioc.db")
        yield s
        s.close()
        return
    for url in _pg_schema_url():
        s = PostgresStore(url)
        yield s
        s.close()
