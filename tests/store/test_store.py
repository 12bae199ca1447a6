"""The store contract on SQLite and PostgreSQL: merge, idempotence, audit trail, queries, users."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ioc.messages import Alert, AlertState, AlertStatus, Category, Severity
from ioc.store.base import (
    Action,
    AlertQuery,
    IllegalTransitionError,
    Store,
    UnknownAlertError,
    UnknownUserError,
    UserExistsError,
)
from ioc.store.sqlite import SqliteStore
from tests.factories import make_alert

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _save(store: Store, alert: Alert, seq: int) -> Alert:
    return store.save_alert(alert.model_copy(update={"seq": seq}))


def test_save_requires_seq(store: Store) -> None:
    with pytest.raises(ValueError, match="no seq"):
        store.save_alert(make_alert(1))


def test_messages_after_returns_every_message_in_seq_order(store: Store) -> None:
    for seq in range(1, 8):
        _save(store, make_alert(seq % 3), seq)
    assert store.max_seq() == 7
    assert [a.seq for a in store.messages_after(2, 100)] == [3, 4, 5, 6, 7]
    assert [a.seq for a in store.messages_after(2, 2)] == [3, 4]
    assert store.messages_after(7, 10) == []


def test_saving_a_seq_twice_is_idempotent(store: Store) -> None:
    first = _save(store, make_alert(1), 1)
    again = _save(store, make_alert(1, value=99.0), 1)
    assert again == first
    assert len(store.messages_after(0, 10)) == 1


def test_pipeline_update_keeps_operator_workflow(store: Store) -> None:
    start = make_alert(1)
    _save(store, start, 1)
    store.apply_action(start.id, Action.ACK, "olga", NOW, {})
    update = start.model_copy(
        update={
            "state": AlertState.UPDATE,
            "updated_at": start.updated_at + timedelta(seconds=5),
            "value": 3.0,
        }
    )
    merged = _save(store, update, 2)
    assert (merged.state, merged.value, merged.status) == (AlertState.UPDATE, 3.0, AlertStatus.ACKNOWLEDGED)
    assert merged.acknowledged_by == "olga"
    assert store.get_alert(start.id) == merged


def test_older_message_does_not_roll_back_content(store: Store) -> None:
    start = make_alert(1)
    end = start.model_copy(
        update={"state": AlertState.END, "updated_at": start.updated_at + timedelta(seconds=9)}
    )
    _save(store, end, 1)
    merged = _save(store, start, 2)  # e.g. a status echo built from an older row
    assert merged.state is AlertState.END
    assert merged.seq == 2


def test_actions_leave_an_audit_trail(store: Store) -> None:
    alert = make_alert(1)
    _save(store, alert, 1)
    store.apply_action(alert.id, Action.ACK, "olga", NOW, {})
    store.apply_action(alert.id, Action.ASSIGN, "olga", NOW + timedelta(seconds=1), {"assignee": "bao"})
    done = store.apply_action(alert.id, Action.RESOLVE, "bao", NOW + timedelta(seconds=2), {"note": "fixed"})
    assert (done.status, done.resolved_by, done.assigned_to) == (AlertStatus.RESOLVED, "bao", "bao")
    trail = [(h.action, h.actor, h.detail) for h in store.history(alert.id)]
    assert trail == [
        (Action.MESSAGE, None, {"state": "start"}),
        (Action.ACK, "olga", {}),
        (Action.ASSIGN, "olga", {"assignee": "bao"}),
        (Action.RESOLVE, "bao", {"note": "fixed"}),
    ]
    assert store.history(alert.id)[1].at == NOW


def test_history_is_in_time_order_without_the_republished_records(store: Store) -> None:
    """After each action the API publishes the stored row again (a new seq, the old updated_at):
    /ws resume still gets it, the history does not list it out of order."""
    alert = _save(store, make_alert(1), 1)
    started = alert.started_at
    for seq, (action, detail) in enumerate(
        [(Action.ACK, {}), (Action.ASSIGN, {"assignee": "bao"}), (Action.RESOLVE, {})], start=2
    ):
        changed = store.apply_action(alert.id, action, "olga", started + timedelta(minutes=seq), detail)
        _save(store, changed, seq)
    end = make_alert(1, state="end", updated_at=started + timedelta(minutes=9), ended_at=started)
    _save(store, end, 5)
    history = store.history(alert.id)
    assert [(h.action, h.seq) for h in history] == [
        (Action.MESSAGE, 1),
        (Action.ACK, None),
        (Action.ASSIGN, None),
        (Action.RESOLVE, None),
        (Action.MESSAGE, 5),
    ]
    assert [h.at for h in history] == sorted(h.at for h in history)
    assert [m.seq for m in store.messages_after(0, 10)] == [1, 2, 3, 4, 5]  # resume sees every seq
    assert store.get_alert(alert.id).status is AlertStatus.RESOLVED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("done", "action", "match"),
    [
        ((Action.ACK,), Action.ACK, "already acknowledged"),
        ((Action.RESOLVE,), Action.ACK, "resolved"),
        ((Action.RESOLVE,), Action.ASSIGN, "resolved"),
        ((Action.ACK, Action.RESOLVE), Action.RESOLVE, "resolved"),
    ],
)
def test_illegal_transitions_are_refused(
    store: Store, done: tuple[Action, ...], action: Action, match: str
) -> None:
    alert = make_alert(1)
    _save(store, alert, 1)
    for step in done:
        store.apply_action(alert.id, step, "olga", NOW, {})
    with pytest.raises(IllegalTransitionError, match=match):
        store.apply_action(alert.id, action, "olga", NOW, {"assignee": "x"})


def test_action_on_unknown_alert(store: Store) -> None:
    with pytest.raises(UnknownAlertError, match="nope"):
        store.apply_action("nope", Action.ACK, "olga", NOW, {})


def _seed(store: Store) -> None:
    rows = [
        ("street", "traffic", "line_crossing", "info"),
        ("gate", "security", "intrusion", "critical"),
        ("street", "traffic", "intrusion", "warning"),
        ("gate", "security", "loitering", "warning"),
        ("yard", "security", "intrusion", "warning"),
    ]
    for n, (cam, cat, rule, sev) in enumerate(rows, start=1):
        _save(store, make_alert(n, camera_id=cam, category=cat, rule_type=rule, severity=sev), n)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AlertQuery(), ["yard-a5", "gate-a4", "street-a3", "gate-a2", "street-a1"]),
        (AlertQuery(camera_id="street"), ["street-a3", "street-a1"]),
        (AlertQuery(categories=frozenset({Category.SECURITY})), ["yard-a5", "gate-a4", "gate-a2"]),
        (AlertQuery(categories=frozenset()), []),
        (AlertQuery(rule_type="intrusion", severity=Severity.WARNING), ["yard-a5", "street-a3"]),
        (AlertQuery(status=AlertStatus.NEW, limit=2), ["yard-a5", "gate-a4"]),
        (AlertQuery(before_seq=3), ["gate-a2", "street-a1"]),
        (
            AlertQuery(
                since=datetime.fromtimestamp(1_700_000_002, tz=UTC),
                until=datetime.fromtimestamp(1_700_000_004, tz=UTC),
            ),
            ["street-a3", "gate-a2"],
        ),
    ],
)
def test_query_filters(store: Store, query: AlertQuery, expected: list[str]) -> None:
    _seed(store)
    assert [a.id for a in store.query_alerts(query)] == expected


def test_prune_removes_old_alerts_with_their_history(store: Store) -> None:
    _seed(store)
    cutoff = datetime.fromtimestamp(1_700_000_003, tz=UTC)  # alerts 1 and 2 updated before this
    assert store.prune_alerts(cutoff) == 2
    assert [a.id for a in store.query_alerts(AlertQuery())] == ["yard-a5", "gate-a4", "street-a3"]
    assert store.history("street-a1") == []
    assert [a.seq for a in store.messages_after(0, 10)] == [3, 4, 5]


def test_users(store: Store) -> None:
    store.add_user("olga", "operator", "h1", NOW)
    store.add_user("bao", "traffic", "h2", NOW)
    with pytest.raises(UserExistsError, match="olga"):
        store.add_user("olga", "admin", "h3", NOW)
    store.set_password("olga", "h9")
    user = store.get_user("olga")
    assert user is not None and (user.role, user.password_hash, user.created_at) == ("operator", "h9", NOW)
    assert [u.username for u in store.list_users()] == ["bao", "olga"]
    store.remove_user("bao")
    assert store.get_user("bao") is None
    for call in (lambda: store.remove_user("bao"), lambda: store.set_password("bao", "x")):
        with pytest.raises(UnknownUserError, match="bao"):
            call()
    assert store.ping()


def test_prune_in_small_batches_deletes_everything_old(store: Store) -> None:
    _seed(store)
    assert store.prune_alerts(datetime.fromtimestamp(1_700_000_100, tz=UTC), batch=2) == 5
    assert store.query_alerts(AlertQuery()) == []


@pytest.mark.parametrize("existing_mode", [None, 0o644])
def test_sqlite_file_is_private(tmp_path: Path, existing_mode: int | None) -> None:
    """The database holds password hashes: owner-only, including SQLite's -wal/-shm files."""
    path = tmp_path / "ioc.db"
    if existing_mode is not None:
        SqliteStore(path).close()
        path.chmod(existing_mode)
    s = SqliteStore(path)
    s.add_user("u", "operator", "hash", NOW)
    files = sorted(tmp_path.glob("ioc.db*"))
    assert {f.name for f in files} >= {"ioc.db", "ioc.db-wal"}
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
    s.close()


def test_a_burst_is_saved_in_order_as_one_by_one_would(store: Store) -> None:
    start = make_alert(1)
    later = start.updated_at + timedelta(seconds=5)
    update = start.model_copy(update={"state": AlertState.UPDATE, "updated_at": later, "value": 7.0})
    burst = [start.model_copy(update={"seq": 1}), make_alert(2).model_copy(update={"seq": 2})]
    burst.append(update.model_copy(update={"seq": 3}))
    merged = store.save_alerts(burst)
    assert [a.seq for a in merged] == [1, 2, 3]
    assert merged[2].value == 7.0 and merged[2].state is AlertState.UPDATE
    assert store.get_alert(start.id) == merged[2]
    assert [a.seq for a in store.messages_after(0, 10)] == [1, 2, 3]
    assert store.save_alerts(burst[:2]) == merged[:2]  # idempotent by seq, like save_alert


def test_a_burst_with_an_alert_without_seq_stores_none_of_it(store: Store) -> None:
    with pytest.raises(ValueError, match="no seq"):
        store.save_alerts([make_alert(1).model_copy(update={"seq": 1}), make_alert(2)])
    assert store.max_seq() == 0


def test_a_seq_twice_in_one_burst_is_stored_once(store: Store) -> None:
    alert = make_alert(1).model_copy(update={"seq": 1})
    merged = store.save_alerts([alert, alert.model_copy(update={"value": 99.0})])
    assert merged[0] == merged[1]
    assert len(store.messages_after(0, 10)) == 1
