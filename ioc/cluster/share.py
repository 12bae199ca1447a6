"""Which cameras a worker should hold: pinned ones, plus a fair share of the rest.

A pure function of the config, what the worker holds and how many workers are alive, so it is
tested without Redis. Each tick of the worker's lease loop asks it what to release and what to try
to acquire (an attempt fails when another worker holds the camera; that is fine).

- ``worker: <node>`` in ``cameras.yaml`` pins a camera: only that node runs it (if that node is
  down, the camera waits for it); other nodes never take it.
- Unpinned cameras are shared: a worker holds at most ceil(unpinned / live workers). A worker
  holding more (because another one just joined) releases the excess, highest camera ids first,
  and the newcomer acquires them on its next tick. A worker below its share tries only cameras no
  other worker holds (one SCAN of the lease keys per tick, and only then).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ioc.cluster.leases import fair_share


@dataclass(frozen=True, slots=True)
class CameraSlot:
    """What the planner needs of a camera: its id and its pin (``worker:``), if any."""

    camera_id: str
    pinned_to: str | None = None


@dataclass(frozen=True, slots=True)
class SharePlan:
    release: tuple[str, ...]
    acquire: tuple[str, ...]


def plan_share(
    cameras: Sequence[CameraSlot],
    held: Collection[str],
    node: str,
    workers: int,
    taken: Collection[str] = (),
) -> SharePlan:
    """What ``node`` should release and try to acquire, given ``workers`` live workers and the
    cameras ``taken`` by other workers now."""
    mine = [c.camera_id for c in cameras if c.pinned_to == node]
    pool = [c.camera_id for c in cameras if c.pinned_to is None]
    known = {c.camera_id for c in cameras}
    target = fair_share(len(pool), workers)
    held_pool = sorted(c for c in held if c in pool)
    not_mine = sorted(c for c in held if c not in known or (c not in pool and c not in mine))
    excess = held_pool[target:]
    room = max(target - len(held_pool), 0)
    free = [c for c in pool if c not in held and c not in taken][:room]
    return SharePlan(
        release=(*not_mine, *excess),
        acquire=(*(c for c in mine if c not in held), *free),
    )
