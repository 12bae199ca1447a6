"""Retention prunes alerts by age and snapshots by age and disk budget, in its own thread."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ioc.config.models import RetentionConfig
from ioc.store.base import AlertQuery, Store
from ioc.store.retention import DIR_GRACE_SECONDS, RetentionWorker, prune_once
from tests.factories import make_alert

DAY = 86_400.0
NOW = 1_700_000_000.0 + 100 * DAY


def _snapshot(root: Path, name: str, age_days: float, size: int) -> Path:
    path = root / "gate" / "2026-01-01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff" * size)
    mtime = NOW - age_days * DAY
    os.utime(path, (mtime, mtime))
    return path


def test_prunes_by_age_then_by_disk_budget(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "snapshots"
    old = _snapshot(root, "old.jpg", age_days=40, size=1000)
    oldest_young = _snapshot(root, "a.jpg", age_days=5, size=400_000)
    middle = _snapshot(root, "b.jpg", age_days=3, size=400_000)
    newest = _snapshot(root, "c.jpg", age_days=1, size=400_000)
    for n, age in ((1, 45), (2, 2)):
        alert = make_alert(n, at=NOW - age * DAY)
        store.save_alert(alert.model_copy(update={"seq": n}))

    config = RetentionConfig(max_age_days=30, max_disk_mb=1.0, interval_seconds=60)
    result = prune_once(store, root, config, now=NOW)

    assert (result.alerts, result.snapshots_by_age, result.snapshots_by_size) == (1, 1, 1)
    assert [p.exists() for p in (old, oldest_young, middle, newest)] == [False, False, True, True]
    assert result.snapshot_bytes_left == 800_000
    assert [a.id for a in store.query_alerts(AlertQuery())] == ["gate-a2"]


def test_missing_snapshot_dir_is_fine(tmp_path: Path, store: Store) -> None:
    result = prune_once(store, tmp_path / "none", RetentionConfig(), now=NOW)
    assert result.snapshots_by_age == result.snapshots_by_size == 0


def test_worker_runs_in_its_own_thread_and_stops(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "snapshots"
    stale = _snapshot(root, "stale.jpg", age_days=0, size=10)
    os.utime(stale, (time.time() - 10 * DAY, time.time() - 10 * DAY))
    worker = RetentionWorker(store, root, RetentionConfig(max_age_days=1, interval_seconds=0.05))
    worker.start()
    deadline = time.monotonic() + 5
    while stale.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert not stale.exists()
    assert (root / "gate" / "2026-01-01").is_dir()  # just emptied: a writer may be about to use it


def test_emptied_folders_go_after_a_grace_period(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "snapshots"
    _snapshot(root, "old.jpg", age_days=40, size=10)
    fresh_dir = root / "yard" / "2026-01-02"
    fresh_dir.mkdir(parents=True)
    later = time.time() + DIR_GRACE_SECONDS + 1
    os.utime(fresh_dir, (time.time(), time.time()))
    prune_once(store, root, RetentionConfig(max_age_days=30), now=later)
    assert not (root / "gate").exists()
    assert not fresh_dir.exists()  # older than the grace period by ``later``
    (root / "cam" / "today").mkdir(parents=True)
    prune_once(store, root, RetentionConfig(max_age_days=30))
    assert (root / "cam" / "today").is_dir()
