"""SQLite store: the embedded default (``data_dir/ioc.db``, WAL, one connection under a lock).

The file holds password hashes, so it is readable by its owner only (0600; SQLite gives its
``-wal`` and ``-shm`` files the same mode).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ioc.store.sql import Dialect, Row, SqlStore

logger = logging.getLogger(__name__)

SQLITE = Dialect(name="sqlite", serial_pk="INTEGER PRIMARY KEY AUTOINCREMENT", placeholder="?", lock_rows="")


class SqliteStore(SqlStore):
    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        _make_private(path)
        self._conn: sqlite3.Connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._create_schema()

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def _exec_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, [tuple(r) for r in rows])

    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")


def _make_private(path: Path) -> None:
    """Create ``path`` as 0600, or take group/other access away from an existing file."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("%s was readable by others (mode %o); making it 0600", path, mode)
        try:
            os.chmod(path, 0o600)
        except OSError as exc:
            logger.warning("cannot change the mode of %s: %s", path, exc)
