"""Retention: prune alerts and snapshots by age, and snapshots by disk budget.

Runs in its own thread every ``interval_seconds``; each pass takes the store's lock only for its
own short transaction, so the bus keeps storing alerts while files are being deleted.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ioc.config.models import RetentionConfig
from ioc.periodic import PeriodicThread
from ioc.store.base import Store

logger = logging.getLogger(__name__)

DIR_GRACE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class PruneResult:
    alerts: int
    snapshots_by_age: int
    snapshots_by_size: int
    snapshot_bytes_left: int
    flows: int = 0


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    mtime: float
    size: int


def _snapshot_files(root: Path) -> list[_File]:
    files: list[_File] = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            files.append(_File(path, st.st_mtime, st.st_size))
    return sorted(files, key=lambda f: (f.mtime, str(f.path)))


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        logger.warning("retention: cannot delete %s: %s", path, exc)
        return False


def _remove_empty_dirs(root: Path, now: float) -> None:
    """Remove emptied folders, but not fresh ones: a snapshot writer may have just made one."""
    for dirpath, _dirs, _files in os.walk(root, topdown=False):
        folder = Path(dirpath)
        try:
            if folder == root or any(folder.iterdir()) or folder.stat().st_mtime > now - DIR_GRACE_SECONDS:
                continue
            folder.rmdir()
        except OSError:  # written to or removed meanwhile
            continue


def prune_snapshots(root: Path, max_age: timedelta, max_bytes: int, now: float) -> tuple[int, int, int]:
    """Delete snapshots older than ``max_age``, then the oldest until the rest fit ``max_bytes``.
    Returns (deleted by age, deleted by size, bytes left)."""
    if not root.is_dir():
        return 0, 0, 0
    cutoff = now - max_age.total_seconds()
    kept: list[_File] = []
    by_age = 0
    for f in _snapshot_files(root):
        if f.mtime < cutoff:
            by_age += _unlink(f.path)
        else:
            kept.append(f)
    total = sum(f.size for f in kept)
    by_size = 0
    for f in kept:  # oldest first
        if total <= max_bytes:
            break
        if _unlink(f.path):
            by_size += 1
        total -= f.size
    _remove_empty_dirs(root, now)
    return by_age, by_size, total


def prune_once(
    store: Store, snapshots_dir: Path, config: RetentionConfig, now: float | None = None
) -> PruneResult:
    now = time.time() if now is None else now
    max_age = timedelta(days=config.max_age_days)
    cutoff = datetime.fromtimestamp(now, tz=UTC) - max_age
    alerts = store.prune_alerts(cutoff)
    flows = store.prune_flows(cutoff)
    by_age, by_size, left = prune_snapshots(
        snapshots_dir, max_age, int(config.max_disk_mb * 1024 * 1024), now
    )
    return PruneResult(alerts, by_age, by_size, left, flows)


class RetentionWorker(PeriodicThread):
    """A thread that runs :func:`prune_once` at start and then every ``interval_seconds``."""

    def __init__(self, store: Store, snapshots_dir: Path, config: RetentionConfig) -> None:
        super().__init__("retention", config.interval_seconds)
        self._store = store
        self._dir = snapshots_dir
        self._config = config

    def run_once(self) -> PruneResult:
        result = prune_once(self._store, self._dir, self._config)
        if result.alerts or result.snapshots_by_age or result.snapshots_by_size:
            logger.info(
                "retention: pruned %d alerts, %d old snapshots, %d snapshots over budget (%d bytes left)",
                result.alerts,
                result.snapshots_by_age,
                result.snapshots_by_size,
                result.snapshot_bytes_left,
            )
        return result
