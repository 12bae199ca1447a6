"""The fair-share planner: pinned cameras, ceil(cameras / workers), releasing the excess."""

from __future__ import annotations

import pytest

from ioc.cluster.share import CameraSlot, SharePlan, plan_share

FOUR = [CameraSlot(f"c{i}") for i in range(4)]
PINNED = [CameraSlot("p-a", "node-a"), CameraSlot("p-b", "node-b"), *FOUR[:2]]


@pytest.mark.parametrize(
    ("cameras", "held", "node", "workers", "expected", "taken"),
    [
        (FOUR, [], "node-a", 1, SharePlan((), ("c0", "c1", "c2", "c3")), []),
        (FOUR, [], "node-a", 2, SharePlan((), ("c0", "c1")), []),
        (FOUR, ["c0", "c1", "c2", "c3"], "node-a", 2, SharePlan(("c2", "c3"), ()), []),  # a worker joined
        (FOUR, ["c0", "c1", "c2"], "node-a", 3, SharePlan(("c2",), ()), []),  # ceil(4/3) = 2
        (FOUR, ["c2", "c3"], "node-b", 2, SharePlan((), ()), []),  # at its share: tries nothing
        (FOUR, ["c2"], "node-b", 1, SharePlan((), ("c0", "c1", "c3")), []),  # the other worker died
        (FOUR, ["c0"], "node-a", 0, SharePlan((), ("c1", "c2", "c3")), []),  # no heartbeat yet: counts as 1
        (PINNED, [], "node-a", 2, SharePlan((), ("p-a", "c0")), []),
        (PINNED, [], "node-c", 1, SharePlan((), ("c0", "c1")), []),  # never another node's pinned camera
        (PINNED, ["p-b", "c0"], "node-a", 2, SharePlan(("p-b",), ("p-a",)), []),  # pin moved in the config
        (FOUR, ["gone"], "node-a", 4, SharePlan(("gone",), ("c0",)), []),  # camera removed from the config
        (FOUR, [], "node-b", 2, SharePlan((), ("c2", "c3")), ["c0", "c1"]),  # only free ones are tried
        (FOUR, [], "node-b", 2, SharePlan((), ("c1",)), ["c0", "c2", "c3"]),
    ],
)
def test_plan_share(
    cameras: list[CameraSlot], held: list[str], node: str, workers: int, expected: SharePlan, taken: list[str]
) -> None:
    assert plan_share(cameras, held, node, workers, taken) == expected
