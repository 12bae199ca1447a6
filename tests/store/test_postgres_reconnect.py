"""PostgreSQL drops a connection (a server restart, an admin's terminate): reads carry on by
themselves on a new connection; a write fails once and nothing half-written is kept."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from ioc.store.postgres import PostgresStore
from tests.factories import make_alert
from tests.store.conftest import _pg_schema_url


@pytest.fixture
def pg() -> Iterator[PostgresStore]:
    for url in _pg_schema_url():
        s = PostgresStore(url)
        yield s
        s.close()


def _drop_connection(store: PostgresStore) -> None:
    with psycopg.connect(store._url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))


def test_a_read_after_the_server_dropped_the_connection_is_answered(pg: PostgresStore) -> None:
    pg.save_alert(make_alert(0, seq=1))
    _drop_connection(pg)
    assert [a.seq for a in pg.messages_after(0, 10)] == [1]


def test_a_write_that_found_the_connection_broken_fails_and_the_next_one_is_stored(pg: PostgresStore) -> None:
    pg.save_alert(make_alert(0, seq=1))
    _drop_connection(pg)
    with pytest.raises(psycopg.OperationalError):
        pg.save_alert(make_alert(1, seq=2))
    pg.save_alert(make_alert(1, seq=2))
    assert [a.seq for a in pg.messages_after(0, 10)] == [1, 2]
