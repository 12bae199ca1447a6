"""Server-side sessions: what makes a token revocable.

Every token names a session (its ``sid`` claim). The session row holds the user it belongs to, a
*stamp* of that user's record (role, password hash and creation time, see
:func:`ioc.api.auth.user_stamp`), when it expires and when it was last used. A token is accepted
only while its session

- exists (logout revokes one session; a password change, a role change or the removal of the user
  revokes all of that user's sessions, also from the ``ioc users`` CLI);
- has not expired (``token_ttl_minutes``) and, for login sessions, has been used within
  ``session_idle_minutes`` (0: no idle limit; ``ioc token`` sessions for scripts have none);
- still matches the user's current stamp, so a token survives no change to its user even when
  nobody revoked it (a user removed and re-added with another role gets a new stamp).

Sessions live in the store, next to the users (:mod:`ioc.store.sessions`): every API node and
every ``ioc users`` / ``ioc token`` command using the same store shares them, so a token from one
node works on every node and a revocation made anywhere ends it everywhere.
:meth:`SessionStore.revision` grows with every revocation; each API node polls it
(:class:`RevocationWatch`) to close open websockets of revoked sessions. Sessions of an older
version's ``data_dir/sessions.db`` are moved into the store on first start (:meth:`SessionStore.open_for`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path

from ioc.store.sessions import Session, SessionKind, SessionTable
from ioc.store.sessions_file import legacy_path, remove_legacy_file, take_legacy_sessions

logger = logging.getLogger(__name__)

TOUCH_INTERVAL_SECONDS = 30.0
"""``last_seen`` is written at most this often per session (a request is not a write)."""


class SessionEnded(Exception):
    """The session cannot be used; the message (``session ended`` …) is safe to show."""


class SessionStore:
    """The session policy over the store's session table (thread-safe: the store is)."""

    def __init__(self, table: SessionTable) -> None:
        self._table = table

    @classmethod
    def open_for(cls, table: SessionTable, data_dir: Path) -> SessionStore:
        """The sessions of ``table``, after moving the live sessions of an older version's
        ``data_dir/sessions.db`` into it (then the file is removed). Raises
        :class:`ioc.store.sessions_file.LegacySessionsError` when that file cannot be read."""
        path = legacy_path(data_dir)
        legacy = take_legacy_sessions(path)
        if path.exists():
            added = table.import_sessions(legacy)
            remove_legacy_file(path)
            logger.info("moved %d live sessions from %s into the store; removed the file", added, path)
        return cls(table)

    def open(self, username: str, stamp: str, kind: SessionKind, ttl_seconds: float) -> Session:
        """A new session for ``username``; expired rows are pruned on the way."""
        now = time.time()
        session = Session(secrets.token_urlsafe(18), username, stamp, kind, now, now + ttl_seconds, now)
        self._table.add_session(session)
        return session

    def get(self, sid: str) -> Session | None:
        return self._table.get_session(sid)

    def check(self, sid: str, username: str, stamp: str, idle_seconds: float) -> Session:
        """The live session ``sid`` of ``username`` (whose current stamp is ``stamp``); marks it
        used. Raises :class:`SessionEnded` naming why it cannot be used."""
        session = self.get(sid)
        now = time.time()
        if session is None or session.username != username:
            raise SessionEnded("session ended: log in again")
        if session.stamp != stamp:
            raise SessionEnded("session ended: the user was changed; log in again")
        if session.expires_at <= now:
            raise SessionEnded("token expired")
        if session.kind is SessionKind.LOGIN and idle_seconds > 0 and now - session.last_seen > idle_seconds:
            raise SessionEnded("session idle too long: log in again")
        if now - session.last_seen >= TOUCH_INTERVAL_SECONDS:
            self.touch(sid, now)
        return session

    def touch(self, sid: str, now: float | None = None) -> None:
        self._table.touch_session(sid, now if now is not None else time.time())

    def revoke(self, sid: str) -> bool:
        """End one session (logout); True if it was live."""
        return self._table.revoke_session(sid)

    def revoke_user(self, username: str) -> int:
        """End every session of ``username`` (password or role change, removal); how many."""
        return self._table.revoke_user_sessions(username)

    def revision(self) -> int:
        """Grows with every revocation (from any node or command sharing the store)."""
        return self._table.session_revision()


class RevocationWatch:
    """Polls :meth:`SessionStore.revision` (one primary-key read) and wakes every waiter when it
    changes (any node or command may revoke), so an open websocket of a revoked session is closed
    within a poll or two. A store that cannot be read is logged once and polled again; the poll
    never stops."""

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions
        self._seen = sessions.revision()
        self._changed = asyncio.Event()
        self._failing = False

    async def run(self, interval_seconds: float) -> None:
        self._changed = asyncio.Event()  # this loop's (an app may be served again on another loop)
        while True:
            await asyncio.sleep(interval_seconds)
            revision = await self._poll()
            if revision is not None and revision != self._seen:
                self._seen = revision
                self.notify()

    async def _poll(self) -> int | None:
        try:
            revision = await asyncio.to_thread(self._sessions.revision)
        except Exception as exc:  # the store is down: websockets keep their last check meanwhile
            if not self._failing:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                logger.warning("cannot read the session revision (retrying): %s", reason)
            self._failing = True
            return None
        if self._failing:
            logger.info("session revision readable again")
            self._failing = False
        return revision

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
