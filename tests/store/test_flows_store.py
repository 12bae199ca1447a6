"""Flow counts in both stores, for real: replace by key, filters, order, limit, pruning."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.messages import Category
from ioc.store.base import FlowQuery, Store
from tests.factories import make_flow

T0 = 1_767_225_600.0


def at(minute: float) -> datetime:
    return datetime.fromtimestamp(T0 + 60 * minute, tz=UTC)


def keys(store: Store, query: FlowQuery) -> list[tuple[str, str, int]]:
    return [
        (f.camera_id, f.line_id, int((f.started_at.timestamp() - T0) // 60)) for f in store.query_flows(query)
    ]


@pytest.fixture
def seeded(store: Store) -> Store:
    for minute in range(3):
        store.save_flow(make_flow(minute))
        store.save_flow(make_flow(minute, line_id="l2", rule_id="count2"))
        store.save_flow(make_flow(minute, camera_id="gate", category="security"))
    return store


def test_a_flow_round_trips(store: Store) -> None:
    flow = make_flow(0, counts={("car", "in"): 3, ("bus", "out"): 1}, partial=True)
    store.save_flow(flow)
    assert store.query_flows(FlowQuery()) == [flow]


def test_the_same_interval_sent_again_replaces_it(store: Store) -> None:
    store.save_flow(make_flow(0, counts={("car", "in"): 1}))
    store.save_flow(make_flow(0, counts={("car", "in"): 5}))
    (flow,) = store.query_flows(FlowQuery())
    assert flow.total == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            FlowQuery(camera_id="street", line_id="l1"),
            [("street", "l1", 0), ("street", "l1", 1), ("street", "l1", 2)],
            id="camera-and-line-oldest-first",
        ),
        pytest.param(
            FlowQuery(camera_id="street", line_id="l1", since=at(1), until=at(2)),
            [("street", "l1", 1)],
            id="overlapping-from-to",
        ),
        pytest.param(
            FlowQuery(camera_id="street", line_id="l1", since=at(1.5)),
            [("street", "l1", 1), ("street", "l1", 2)],
            id="from-inside-an-interval",
        ),
        pytest.param(
            FlowQuery(categories=frozenset({Category.SECURITY})),
            [("gate", "l1", 0), ("gate", "l1", 1), ("gate", "l1", 2)],
            id="role-categories",
        ),
        pytest.param(FlowQuery(categories=frozenset()), [], id="no-category-sees-nothing"),
        pytest.param(
            FlowQuery(camera_id="street", line_id="l2", limit=2),
            [("street", "l2", 1), ("street", "l2", 2)],
            id="limit-keeps-the-newest",
        ),
    ],
)
def test_query(seeded: Store, query: FlowQuery, expected: list[tuple[str, str, int]]) -> None:
    assert keys(seeded, query) == expected


def test_prune_deletes_intervals_that_ended_before(seeded: Store) -> None:
    assert seeded.prune_flows(at(2)) == 3  # minute 0 of each line ended at minute 1
    assert {k[2] for k in keys(seeded, FlowQuery())} == {1, 2}
