"""Alert lifecycle (start/update/end, cooldown) and snapshot rendering."""

from ioc.events.lifecycle import AlertLifecycle
from ioc.events.snapshot import SnapshotWriter, annotate

__all__ = ["AlertLifecycle", "SnapshotWriter", "annotate"]
