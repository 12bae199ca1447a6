"""Store contract: alerts (current row + history/audit trail), flow counts, users and their
sessions (:class:`ioc.store.sessions.SessionTable`).

The store is the source of truth for ``/ws`` resume: every alert message the bus publishes is
appended to the history with its ``seq``; the current row of an alert is the merge of the latest
message and the operator workflow (ack / assign / resolve), which only :meth:`Store.apply_action`
changes.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ioc.messages import Alert, AlertStatus, Category, FlowCount, Severity
from ioc.store.sessions import SessionTable

WORKFLOW_FIELDS = (
    "status",
    "acknowledged_by",
    "acknowledged_at",
    "assigned_to",
    "resolved_by",
    "resolved_at",
)


class StoreError(RuntimeError):
    """The store cannot do what was asked (unknown alert, duplicate user, bad URL)."""


class UnknownAlertError(StoreError):
    pass


class IllegalTransitionError(StoreError):
    """An operator action that the alert's status does not allow (e.g. ack after resolve)."""


class UserExistsError(StoreError):
    pass


class UnknownUserError(StoreError):
    pass


class Action(enum.StrEnum):
    """What a history entry records."""

    MESSAGE = "message"
    ACK = "ack"
    ASSIGN = "assign"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Filters for the alert list. ``categories`` is the role's visibility (None = all)."""

    camera_id: str | None = None
    categories: frozenset[Category] | None = None
    rule_type: str | None = None
    severity: Severity | None = None
    status: AlertStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class FlowQuery:
    """Filters for flow counts: intervals that overlap [since, until); ``categories`` is the
    role's visibility (None = all)."""

    camera_id: str | None = None
    line_id: str | None = None
    categories: frozenset[Category] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class AlertCounts:
    """What the operations KPIs count among the stored alerts of one category (or of all, summed
    with ``+``), given two instants: ``recent_since`` (the start of the 24 h window) and
    ``overdue_before`` (an alert awaiting acknowledgement that started before it is overdue).

    The rules are :mod:`ioc.kpi.operations`'s: ``open`` (not resolved, and ongoing or awaiting
    acknowledgement), ``unacknowledged`` (new and not ``info``), ``overdue`` (unacknowledged and
    started before ``overdue_before``); among the alerts started at or after ``recent_since``:
    ``recent`` (all of them), ``recent_to_handle`` (not ``info``), ``recent_handled`` (not ``info``
    and no longer new), ``recent_acknowledged`` (with an acknowledgement time) and
    ``recent_ack_seconds`` (the sum, over those, of the seconds from start to acknowledgement).
    """

    open: int = 0
    unacknowledged: int = 0
    overdue: int = 0
    recent: int = 0
    recent_to_handle: int = 0
    recent_handled: int = 0
    recent_acknowledged: int = 0
    recent_ack_seconds: float = 0.0

    def __add__(self, other: AlertCounts) -> AlertCounts:
        return AlertCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(AlertCounts))
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    alert_id: str
    action: Action
    at: datetime
    seq: int | None
    actor: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    role: str
    password_hash: str
    created_at: datetime
    agency: str | None = None
    """The agency of an ``agency``-role user (None for every other role)."""


class Store(SessionTable, Protocol):
    def max_seq(self) -> int:
        """Highest alert seq ever stored (0 when empty)."""
        ...

    def save_alert(self, alert: Alert) -> Alert:
        """Append a published message (seq set) and update the current row. Returns the merged
        record (workflow fields kept from the row). Idempotent for a seq already stored."""
        ...

    def save_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """:meth:`save_alert` for each, in order, in one transaction (one commit for a burst):
        all are stored or, raising, none."""
        ...

    def apply_action(
        self, alert_id: str, action: Action, actor: str, at: datetime, detail: dict[str, Any]
    ) -> Alert:
        """Change the workflow fields of an alert and record who/when in its history."""
        ...

    def get_alert(self, alert_id: str) -> Alert | None: ...

    def messages_after(self, seq: int, limit: int) -> list[Alert]:
        """Published alert messages with seq > ``seq``, oldest first (for resume)."""
        ...

    def query_alerts(self, query: AlertQuery) -> list[Alert]:
        """Current rows matching ``query``, newest (highest seq) first."""
        ...

    def history(self, alert_id: str) -> list[HistoryEntry]: ...

    def alert_counts(self, recent_since: datetime, overdue_before: datetime) -> dict[Category, AlertCounts]:
        """:class:`AlertCounts` per category, counted by the store over every stored alert (no
        alert is read into memory, nothing is capped); one entry for each category that has at
        least one alert stored, all-zero when none of them counts."""
        ...

    def prune_alerts(self, before: datetime) -> int:
        """Delete alerts last updated before ``before`` with their history; returns how many."""
        ...

    def save_flow(self, flow: FlowCount) -> None:
        """Keep a flow count; one per (camera, rule, started_at): a count sent again replaces it."""
        ...

    def query_flows(self, query: FlowQuery) -> list[FlowCount]:
        """Flow counts matching ``query``, oldest interval first (at most ``limit``, the newest)."""
        ...

    def prune_flows(self, before: datetime) -> int:
        """Delete flow counts whose interval ended before ``before``; returns how many."""
        ...

    def add_user(
        self, username: str, role: str, password_hash: str, at: datetime, agency: str | None = None
    ) -> UserRecord: ...

    def get_user(self, username: str) -> UserRecord | None: ...

    def list_users(self) -> list[UserRecord]: ...

    def set_password(self, username: str, password_hash: str) -> None: ...

    def remove_user(self, username: str) -> None: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


REPUBLISH = "republish"
"""History ``detail`` flag of a message that only re-sent the stored row after an operator action.
The row stays (``/ws`` resumes by seq) but :meth:`Store.history` leaves it out: the action's own
row already records who did what and when, and the re-sent record carries the alert's old
``updated_at``, which would put it out of time order."""


def is_republish(current: Alert | None, incoming: Alert) -> bool:
    """``incoming`` is the stored row sent again with a new seq (what the API publishes after ack,
    assign or resolve)."""
    return current is not None and incoming.model_copy(update={"seq": current.seq}) == current


def merge_message(current: Alert | None, incoming: Alert) -> Alert:
    """The row after ``incoming`` is stored: the newer content (by ``updated_at``, ties go to the
    incoming message) with the row's workflow fields and the incoming seq."""
    if current is None:
        return incoming
    content = incoming if incoming.updated_at >= current.updated_at else current
    workflow = {name: getattr(current, name) for name in WORKFLOW_FIELDS}
    return content.model_copy(update={**workflow, "seq": incoming.seq})


def apply_workflow(alert: Alert, action: Action, actor: str, at: datetime, detail: dict[str, Any]) -> Alert:
    """The alert after an operator action (a new value; ``alert`` is not changed).

    new → acknowledged → resolved; new → resolved; assign is allowed until resolved.
    """
    if alert.status is AlertStatus.RESOLVED:
        raise IllegalTransitionError(f"alert {alert.id!r} is resolved; {action.value} is not allowed")
    if action is Action.ACK and alert.status is AlertStatus.ACKNOWLEDGED:
        raise IllegalTransitionError(
            f"alert {alert.id!r} was already acknowledged by {alert.acknowledged_by!r}"
        )
    if action is Action.ACK:
        return alert.model_copy(
            update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": actor, "acknowledged_at": at}
        )
    if action is Action.ASSIGN:
        return alert.model_copy(update={"assigned_to": str(detail["assignee"])})
    if action is Action.RESOLVE:
        return alert.model_copy(
            update={"status": AlertStatus.RESOLVED, "resolved_by": actor, "resolved_at": at}
        )
    raise ValueError(f"not an operator action: {action!r}")
