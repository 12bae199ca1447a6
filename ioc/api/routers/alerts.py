"""Alerts: filtered, role-limited, cursor-paginated list; detail with history; ack/assign/resolve.

An operator action changes the stored row, is written to the alert's history with who and when,
and the full current record is re-published on the bus with a new seq, so every dashboard (and a
resuming one) sees it.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from ioc.api.auth import Principal, can_see_category, visible_categories
from ioc.api.context import AppContext
from ioc.api.deps import ActingUser, Ctx, CurrentUser
from ioc.api.errors import NO_NUL, error_responses
from ioc.messages import Alert, AlertStatus, Category, Severity
from ioc.store.base import Action, AlertQuery, IllegalTransitionError, UnknownAlertError

router = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=error_responses(401))

MAX_LIMIT = 500
MAX_SEQ = 2**63 - 1  # seq is a BIGINT in both stores


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next (older) page")


class HistoryItem(BaseModel):
    action: str
    at: datetime
    seq: int | None
    actor: str | None
    detail: dict[str, Any]


class AlertDetail(BaseModel):
    alert: Alert
    history: list[HistoryItem]


class AssignRequest(BaseModel):
    assignee: str = Field(
        ..., min_length=1, max_length=64, pattern=NO_NUL, description="Username to assign to"
    )


class ResolveRequest(BaseModel):
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        seq = int(value)
        if prefix != "seq" or not 0 <= seq <= MAX_SEQ:
            raise ValueError(raw)
        return seq
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor: not a cursor from this API"
        ) from exc


def _categories(user: Principal, asked: Category | None) -> frozenset[Category] | None:
    allowed = visible_categories(user.role)
    if asked is None:
        return allowed
    return frozenset({asked}) & allowed if allowed is not None else frozenset({asked})


@router.get("")
def list_alerts(
    ctx: Ctx,
    user: CurrentUser,
    camera_id: str | None = None,
    category: Category | None = None,
    rule_type: str | None = None,
    severity: Severity | None = None,
    alert_status: Annotated[AlertStatus | None, Query(alias="status")] = None,
    since: Annotated[datetime | None, Query(description="started_at ≥ since (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="started_at < until (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> AlertPage:
    """Current state of each alert, most recently changed (highest seq) first."""
    query = AlertQuery(
        camera_id=camera_id,
        categories=_categories(user, category),
        rule_type=rule_type,
        severity=severity,
        status=alert_status,
        since=since,
        until=until,
        before_seq=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    rows = ctx.store.query_alerts(query)
    items = rows[:limit]
    more = len(rows) > limit and items[-1].seq is not None
    return AlertPage(items=items, next_cursor=encode_cursor(items[-1].seq or 0) if more else None)


def _visible_alert(ctx: AppContext, user: Principal, alert_id: str) -> Alert:
    alert = ctx.store.get_alert(alert_id)
    if alert is None or not can_see_category(user.role, alert.category):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown alert {alert_id!r}")
    return alert


@router.get("/{alert_id}")
def get_alert(alert_id: str, ctx: Ctx, user: CurrentUser) -> AlertDetail:
    alert = _visible_alert(ctx, user, alert_id)
    history = [
        HistoryItem(action=h.action.value, at=h.at, seq=h.seq, actor=h.actor, detail=h.detail)
        for h in ctx.store.history(alert_id)
    ]
    return AlertDetail(alert=alert, history=history)


def _act(ctx: AppContext, user: Principal, alert_id: str, action: Action, detail: dict[str, Any]) -> Alert:
    _visible_alert(ctx, user, alert_id)
    try:
        changed = ctx.store.apply_action(alert_id, action, user.username, datetime.now(UTC), detail)
    except UnknownAlertError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except IllegalTransitionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    published = ctx.bus.publish(changed)
    assert isinstance(published, Alert)
    return published


@router.post("/{alert_id}/ack", responses=error_responses(403, 409))
def ack(alert_id: str, ctx: Ctx, user: ActingUser) -> Alert:
    return _act(ctx, user, alert_id, Action.ACK, {})


@router.post("/{alert_id}/assign", responses=error_responses(403, 409))
def assign(alert_id: str, body: AssignRequest, ctx: Ctx, user: ActingUser) -> Alert:
    if ctx.store.get_user(body.assignee) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"assignee: unknown user {body.assignee!r}"
        )
    return _act(ctx, user, alert_id, Action.ASSIGN, {"assignee": body.assignee})


@router.post("/{alert_id}/resolve", responses=error_responses(403, 409))
def resolve(alert_id: str, ctx: Ctx, user: ActingUser, body: ResolveRequest | None = None) -> Alert:
    note = body.note if body is not None else None
    return _act(ctx, user, alert_id, Action.RESOLVE, {"note": note} if note else {})
