"""Server-side sessions: what makes a token revocable.

Every token names a session (its ``sid`` claim). The session row holds the user it belongs to, a
*stamp* of that user's record (role, password hash and creation time, see
:func:`ioc.api.auth.user_stamp`), when it expires and when it was last used. A token is accepted
only while its session

- exists and is not revoked (logout revokes one session; a password change, a role change or the
  removal of the user revokes all of that user's sessions, also from the ``ioc users`` CLI);
- has not expired (``token_ttl_minutes``) and, for login sessions, has been used within
  ``session_idle_minutes`` (0: no idle limit; ``ioc token`` sessions for scripts have none);
- still matches the user's current stamp, so a token survives no change to its user even when
  nobody revoked it (a user removed and re-added with another role gets a new stamp).

Sessions live in ``<data_dir>/sessions.db`` (SQLite, WAL), shared by ``ioc serve`` and the
``ioc users`` / ``ioc token`` commands on the same data dir. :meth:`SessionStore.revision` grows
with every revocation; the API polls it to close open websockets of revoked sessions.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SESSIONS_FILE = "sessions.db"
TOUCH_INTERVAL_SECONDS = 30.0
"""``last_seen`` is written at most this often per session (a request is not a write)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    stamp TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO revision (id, value) VALUES (1, 0);
"""


class SessionEnded(Exception):
    """The session cannot be used; the message (``session ended`` …) is safe to show."""


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    username: str
    stamp: str
    kind: str
    expires_at: float
    last_seen: float
    revoked: bool


class SessionStore:
    """Sessions in one SQLite file; thread-safe; several processes may share the file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        with self._lock:
            self._connect()

    def _connect(self) -> sqlite3.Connection:
        """The connection (opened again after :meth:`close`: an app may be served again)."""
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, check_same_thread=False, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    @property
    def _db(self) -> sqlite3.Connection:
        return self._connect()

    @classmethod
    def in_dir(cls, data_dir: Path) -> SessionStore:
        return cls(data_dir / SESSIONS_FILE)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def open(self, username: str, stamp: str, kind: str, ttl_seconds: float) -> Session:
        """A new session for ``username``; expired rows are pruned on the way."""
        now = time.time()
        sid = secrets.token_urlsafe(18)
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            self._db.execute(
                "INSERT INTO sessions (id, username, stamp, kind, created_at, expires_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sid, username, stamp, kind, now, now + ttl_seconds, now),
            )
        return Session(sid, username, stamp, kind, now + ttl_seconds, now, False)

    def get(self, sid: str) -> Session | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, username, stamp, kind, expires_at, last_seen, revoked FROM sessions WHERE id = ?",
                (sid,),
            ).fetchone()
        if row is None:
            return None
        return Session(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))

    def check(self, sid: str, username: str, stamp: str, idle_seconds: float) -> Session:
        """The live session ``sid`` of ``username`` (whose current stamp is ``stamp``); marks it
        used. Raises :class:`SessionEnded` naming why it cannot be used."""
        session = self.get(sid)
        now = time.time()
        if session is None or session.revoked or session.username != username:
            raise SessionEnded("session ended: log in again")
        if session.stamp != stamp:
            raise SessionEnded("session ended: the user was changed; log in again")
        if session.expires_at <= now:
            raise SessionEnded("token expired")
        if session.kind == "login" and idle_seconds > 0 and now - session.last_seen > idle_seconds:
            raise SessionEnded("session idle too long: log in again")
        if now - session.last_seen >= TOUCH_INTERVAL_SECONDS:
            self.touch(sid, now)
        return session

    def touch(self, sid: str, now: float | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE sessions SET last_seen = ? WHERE id = ?",
                (now if now is not None else time.time(), sid),
            )

    def revoke(self, sid: str) -> bool:
        """End one session (logout); True if it was live."""
        return self._revoke("id = ?", sid) > 0

    def revoke_user(self, username: str) -> int:
        """End every session of ``username`` (password or role change, removal); how many."""
        return self._revoke("username = ?", username)

    def _revoke(self, where: str, value: str) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                count = self._db.execute(
                    f"UPDATE sessions SET revoked = 1 WHERE revoked = 0 AND {where}", (value,)
                ).rowcount
                if count:
                    self._db.execute("UPDATE revision SET value = value + 1 WHERE id = 1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(count)

    def revision(self) -> int:
        """Grows with every revocation (from any process sharing the file)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM revision WHERE id = 1").fetchone()
        return int(row[0]) if row else 0


class RevocationWatch:
    """Polls :meth:`SessionStore.revision` and wakes every waiter when it changes (any process
    may revoke), so an open websocket of a revoked session is closed within a poll or two."""

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions
        self._seen = sessions.revision()
        self._changed = asyncio.Event()

    async def run(self, interval_seconds: float) -> None:
        self._changed = asyncio.Event()  # this loop's (an app may be served again on another loop)
        while True:
            await asyncio.sleep(interval_seconds)
            revision = await asyncio.to_thread(self._sessions.revision)
            if revision != self._seen:
                self._seen = revision
                self.notify()

    def notify(self) -> None:
        """Wake every waiter now."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    @property
    def seen(self) -> int:
        """The newest revision seen so far."""
        return self._seen

    async def wait_past(self, seen: int) -> int:
        """Return the revision once it differs from ``seen`` (at once if it already does), so a
        revocation made while a waiter was busy is not missed."""
        while self._seen == seen:
            await self._changed.wait()
        return self._seen
