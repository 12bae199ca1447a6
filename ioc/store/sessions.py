"""Session rows in the store: what a token's ``sid`` names, and the revision that announces revocations.

Sessions live in the same store as users and alerts (SQLite ``data_dir/ioc.db`` or PostgreSQL), so
every API node and the ``ioc users`` / ``ioc token`` commands that open that store see the same
sessions: a token issued by one node works on all of them, and a revocation made anywhere ends it
everywhere. The policy (idle and lifetime limits, the user stamp) is in :mod:`ioc.api.sessions`;
the store only keeps rows.

- A revoked session is deleted, and the same transaction adds one to the *session revision*
  (one row), so a node learns that something was revoked by reading one number
  (:meth:`SessionTable.session_revision`), whichever node or command revoked it.
- Expired rows are pruned whenever a session is opened.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class SessionKind(enum.StrEnum):
    """``login``: from ``POST /api/auth/login`` (the idle limit applies); ``cli``: from ``ioc token``
    (for scripts, no idle limit)."""

    LOGIN = "login"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Session:
    """One session; times are Unix seconds."""

    id: str
    username: str
    stamp: str
    kind: SessionKind
    created_at: float
    expires_at: float
    last_seen: float


class SessionTable(Protocol):
    """The session part of the store (both engines implement it in ``ioc.store.sessions_sql``)."""

    def add_session(self, session: Session) -> None:
        """Keep a new session; expired sessions are pruned in the same transaction."""
        ...

    def get_session(self, sid: str) -> Session | None:
        """The live (unrevoked) session ``sid``, expired or not; None when there is none."""
        ...

    def touch_session(self, sid: str, at: float) -> None:
        """Set when the session was last used."""
        ...

    def revoke_session(self, sid: str) -> bool:
        """Delete one session (logout); True if it existed. Bumps the revision when it did."""
        ...

    def revoke_user_sessions(self, username: str) -> int:
        """Delete every session of ``username``; how many. Bumps the revision when any."""
        ...

    def session_revision(self) -> int:
        """A number that grows with every revocation made through this store, by any process."""
        ...

    def import_sessions(self, sessions: Sequence[Session]) -> int:
        """Keep sessions carried over from elsewhere (an older ``sessions.db``); a session id
        already stored is left as it is. How many were added."""
        ...
