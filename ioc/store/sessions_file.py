"""The ``data_dir/sessions.db`` that held sessions before they moved into the store.

Read once and removed: :func:`take_legacy_sessions` returns its live sessions (not revoked, not
expired) so that the caller can import them, and :func:`remove_legacy_file` deletes the file with
its WAL files afterwards. Tokens issued before the upgrade therefore keep working; revoked and
expired ones stay ended.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

from ioc.store.base import StoreError
from ioc.store.sessions import Session, SessionKind

logger = logging.getLogger(__name__)

LEGACY_FILE = "sessions.db"
_KINDS = {kind.value: kind for kind in SessionKind}


class LegacySessionsError(StoreError):
    """The old file exists but cannot be read; the message names it and what to do."""


def legacy_path(data_dir: Path) -> Path:
    return data_dir / LEGACY_FILE


def take_legacy_sessions(path: Path) -> list[Session]:
    """The live sessions in the old file (empty when there is no file)."""
    if not path.is_file():
        return []
    try:
        # read-write but never created (mode=rw): a WAL left by a killed process is recovered
        conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT id, username, stamp, kind, created_at, expires_at, last_seen FROM sessions "
                "WHERE revoked = 0 AND expires_at > ?",
                (time.time(),),
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if not path.exists():  # another process sharing the data dir imported and removed it
            return []
        raise LegacySessionsError(
            f"{path}: cannot read the sessions of an older version ({exc}); "
            "delete the file (its tokens then end) or fix it, and start again"
        ) from exc
    return [
        Session(r[0], r[1], r[2], _KINDS[r[3]], float(r[4]), float(r[5]), float(r[6]))
        for r in rows
        if r[3] in _KINDS
    ]


def remove_legacy_file(path: Path) -> None:
    """Delete the old file and its ``-wal`` / ``-shm`` companions (another process sharing the
    data dir may have done it already)."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (path.parent / name).unlink()
