"""Sessions and the session revision in the SQL store (both engines, same SQL).

``sessions`` holds one row per live session (a revoked one is deleted); ``session_revision`` holds
one row whose value grows by one in every transaction that revoked something, so API nodes poll a
single primary-key read to learn that they must re-check their open websockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from ioc.store.sessions import Session, SessionKind


def session_schema() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY, username TEXT NOT NULL, stamp TEXT NOT NULL, kind TEXT NOT NULL,
            created_ts DOUBLE PRECISION NOT NULL, expires_ts DOUBLE PRECISION NOT NULL,
            last_seen_ts DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username)",
        "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_ts)",
        "CREATE TABLE IF NOT EXISTS session_revision (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO session_revision (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    ]


_COLUMNS = "id, username, stamp, kind, created_ts, expires_ts, last_seen_ts"
_INSERT = f"INSERT INTO sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _values(session: Session) -> tuple[Any, ...]:
    return (
        session.id,
        session.username,
        session.stamp,
        session.kind.value,
        session.created_at,
        session.expires_at,
        session.last_seen,
    )


class SessionTables:
    """Mixed into ``SqlStore``, which provides ``_q``, ``_tx`` and ``_lock``."""

    _lock: threading.RLock

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def add_session(self, session: Session) -> None:
        with self._tx():
            self._q("DELETE FROM sessions WHERE expires_ts < ?", (time.time(),))
            self._q(_INSERT, _values(session))

    def get_session(self, sid: str) -> Session | None:
        with self._lock:
            rows = self._q(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (sid,))
        if not rows:
            return None
        r = rows[0]
        return Session(r[0], r[1], r[2], SessionKind(r[3]), float(r[4]), float(r[5]), float(r[6]))

    def touch_session(self, sid: str, at: float) -> None:
        with self._tx():
            self._q("UPDATE sessions SET last_seen_ts = ? WHERE id = ?", (at, sid))

    def revoke_session(self, sid: str) -> bool:
        return self._revoke("id = ?", sid) > 0

    def revoke_user_sessions(self, username: str) -> int:
        return self._revoke("username = ?", username)

    def _revoke(self, where: str, value: str) -> int:
        with self._tx():
            rows = self._q(f"DELETE FROM sessions WHERE {where} RETURNING id", (value,))
            if rows:
                self._q("UPDATE session_revision SET value = value + 1 WHERE id = 1")
        return len(rows)

    def session_revision(self) -> int:
        with self._lock:
            rows = self._q("SELECT value FROM session_revision WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    def import_sessions(self, sessions: Sequence[Session]) -> int:
        added = 0
        with self._tx():
            for session in sessions:
                added += len(self._q(_INSERT + " ON CONFLICT (id) DO NOTHING RETURNING id", _values(session)))
        return added
