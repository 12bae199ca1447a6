"""Sessions in both stores: rows, revocation and its revision, pruning, import, and two store
instances (two processes' connections) on one database seeing the same sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from ioc.api.sessions import RevocationWatch, SessionEnded, SessionStore
from ioc.store.base import Store
from ioc.store.postgres import PostgresStore
from ioc.store.sessions import Session, SessionKind
from ioc.store.sessions_file import LEGACY_FILE, LegacySessionsError
from ioc.store.sqlite import SqliteStore
from tests.store.conftest import _pg_schema_url

Opener = Callable[[], Store]


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_schema_url()


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens another store on the same database each call (what a second node or the CLI does)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    opened: list[Store] = []

    def open_store() -> Store:
        opened.append(PostgresStore(url) if url is not None else SqliteStore(tmp_path / "ioc.db"))
        return opened[-1]

    yield open_store
    for s in opened:
        s.close()


def _session(
    sid: str, username: str = "olga", *, ttl: float = 3600, kind: SessionKind = SessionKind.LOGIN
) -> Session:
    now = time.time()
    return Session(sid, username, "stamp", kind, now, now + ttl, now)


def test_a_session_is_kept_with_every_field(store: Store) -> None:
    session = _session("s1", kind=SessionKind.CLI)
    store.add_session(session)
    assert store.get_session("s1") == session
    assert store.get_session("nope") is None


def test_touch_sets_last_seen(store: Store) -> None:
    store.add_session(_session("s1"))
    store.touch_session("s1", 1234.5)
    got = store.get_session("s1")
    assert got is not None and got.last_seen == 1234.5


def test_revoking_deletes_and_bumps_the_revision_once_per_change(store: Store) -> None:
    for sid, user in (("a1", "ann"), ("a2", "ann"), ("b1", "bob")):
        store.add_session(_session(sid, user))
    start = store.session_revision()
    assert store.revoke_session("b1") is True
    assert store.session_revision() == start + 1
    assert store.revoke_session("b1") is False  # already ended: nothing changed
    assert store.revoke_user_sessions("nobody") == 0
    assert store.session_revision() == start + 1
    assert store.revoke_user_sessions("ann") == 2
    assert store.session_revision() == start + 2
    assert [store.get_session(s) for s in ("a1", "a2", "b1")] == [None, None, None]


def test_opening_a_session_prunes_expired_ones(store: Store) -> None:
    store.add_session(_session("old", ttl=-1))
    store.add_session(_session("live"))
    assert store.get_session("old") is None
    assert store.get_session("live") is not None


def test_import_keeps_a_stored_session_as_it_is(store: Store) -> None:
    store.add_session(_session("s1"))
    imported = [Session("s1", "eve", "other", SessionKind.CLI, 0, time.time() + 60, 0), _session("s2")]
    assert store.import_sessions(imported) == 1
    kept = store.get_session("s1")
    assert kept is not None and kept.username == "olga"
    assert store.get_session("s2") == imported[1]


def test_two_connections_share_sessions_and_revocations(opener: Opener) -> None:
    node_a, node_b = opener(), opener()
    issued = SessionStore(node_a).open("olga", "stamp", SessionKind.LOGIN, 3600)
    on_b = SessionStore(node_b)
    assert on_b.check(issued.id, "olga", "stamp", idle_seconds=60).id == issued.id
    before = SessionStore(node_a).revision()
    assert on_b.revoke(issued.id)
    assert SessionStore(node_a).revision() == before + 1
    with pytest.raises(SessionEnded, match="session ended"):
        SessionStore(node_a).check(issued.id, "olga", "stamp", idle_seconds=60)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"username": "eve"}, "session ended: log in again"),
        ({"stamp": "changed"}, "the user was changed"),
        ({"expired": True}, "token expired"),
        ({"idle": True}, "idle too long"),
    ],
)
def test_check_names_why_a_session_cannot_be_used(
    store: Store, change: dict[str, object], expected: str
) -> None:
    sessions = SessionStore(store)
    issued = sessions.open("olga", "stamp", SessionKind.LOGIN, -1 if change.get("expired") else 3600)
    if change.get("idle"):
        sessions.touch(issued.id, time.time() - 120)
    username = str(change.get("username", "olga"))
    stamp = str(change.get("stamp", "stamp"))
    with pytest.raises(SessionEnded, match=expected):
        sessions.check(issued.id, username, stamp, idle_seconds=60)


def test_check_marks_use_and_cli_sessions_have_no_idle_limit(store: Store) -> None:
    sessions = SessionStore(store)
    cli = sessions.open("olga", "stamp", SessionKind.CLI, 3600)
    login = sessions.open("olga", "stamp", SessionKind.LOGIN, 3600)
    long_ago = time.time() - 7200
    sessions.touch(cli.id, long_ago)
    sessions.check(cli.id, "olga", "stamp", idle_seconds=60)  # no idle limit
    marked = sessions.get(cli.id)
    assert marked is not None and marked.last_seen > long_ago + 7000
    sessions.touch(login.id, time.time() - 40)
    sessions.check(login.id, "olga", "stamp", idle_seconds=0)  # 0: no idle limit for logins either


# -- the sessions.db of older versions ----------------------------------------------------------

_LEGACY_SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, username TEXT NOT NULL, stamp TEXT NOT NULL,
    kind TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, last_seen REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
"""


def _write_legacy(data_dir: Path) -> float:
    data_dir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    conn = sqlite3.connect(data_dir / LEGACY_FILE)
    conn.executescript(_LEGACY_SCHEMA)
    conn.executemany(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("live", "olga", "st", "login", now - 10, now + 600, now - 5, 0),
            ("script", "bot", "st2", "cli", now - 10, now + 6000, now - 5000, 0),
            ("revoked", "olga", "st", "login", now - 10, now + 600, now - 5, 1),
            ("expired", "olga", "st", "login", now - 900, now - 1, now - 5, 0),
        ],
    )
    conn.commit()
    conn.close()
    return now


def test_an_older_sessions_file_is_moved_into_the_store_once(opener: Opener, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    now = _write_legacy(data_dir)
    store = opener()
    sessions = SessionStore.open_for(store, data_dir)
    assert not (data_dir / LEGACY_FILE).exists()
    live = sessions.get("live")
    assert live == Session("live", "olga", "st", SessionKind.LOGIN, now - 10, now + 600, now - 5)
    script = sessions.get("script")
    assert script is not None and script.kind is SessionKind.CLI
    assert sessions.get("revoked") is None and sessions.get("expired") is None
    SessionStore.open_for(opener(), data_dir)  # a later start: nothing to move, nothing lost
    assert sessions.get("live") is not None


def test_an_unreadable_older_sessions_file_is_named(store: Store, tmp_path: Path) -> None:
    (tmp_path / LEGACY_FILE).write_bytes(b"this is not a database, just bytes" * 100)
    expected = r"sessions\.db: cannot read the sessions of an older version"
    with pytest.raises(LegacySessionsError, match=expected):
        SessionStore.open_for(store, tmp_path)
    assert (tmp_path / LEGACY_FILE).exists()  # kept: nothing is deleted unread


# -- the revocation watch --------------------------------------------------------------------------


async def _revoke_while_unreadable(pg_url: str, node: PostgresStore, other: PostgresStore, sid: str) -> int:
    watch = RevocationWatch(SessionStore(node))
    poller = asyncio.create_task(watch.run(0.02))
    seen = watch.seen
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE session_revision RENAME TO session_revision_away")
        await asyncio.sleep(0.3)  # polls fail meanwhile
        admin.execute("ALTER TABLE session_revision_away RENAME TO session_revision")
    SessionStore(other).revoke(sid)
    revision = await asyncio.wait_for(watch.wait_past(seen), 10.0)
    assert not poller.done()
    poller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await poller
    return revision


def test_the_watch_outlives_a_store_it_cannot_read(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The node's polls fail for a while (here the table is out of reach); the watch logs it,
    keeps polling, and a revocation made afterwards by another node still wakes the waiters."""
    caplog.set_level(logging.INFO, logger="ioc.api.sessions")
    node, other = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        issued = SessionStore(other).open("olga", "stamp", SessionKind.LOGIN, 60)
        assert asyncio.run(_revoke_while_unreadable(pg_url, node, other, issued.id)) > 0
    finally:
        node.close()
        other.close()
    assert caplog.text.count("cannot read the session revision") == 1  # logged once, not per poll
    assert "session revision readable again" in caplog.text
