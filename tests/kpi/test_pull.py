"""Pull connector against a real local HTTP server: auth, cursor across a restart, retry with
backoff on timeout / 500 / malformed JSON (nothing lost, nothing duplicated, cursor never skips)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from ioc.config.kpi_models import PullSource, RecordKind
from ioc.kpi.pull import PullConnector
from ioc.store.sqlite import SqliteStore
from tests.kpi.portal_server import Portal, portal_server

TOKEN = "Bearer s3cret"


def raw(n: int, updated: str, status: int = 4) -> dict[str, Any]:
    return {
        "id": f"HS-{n}",
        "updated_at": f"2026-09-{updated}+07:00",
        "procedure": "P1",
        "field": "F1",
        "agency": "A",
        "channel": "online",
        "received_at": "2026-09-01T08:00:00+07:00",
        "due_at": "2026-09-20T17:00:00+07:00",
        "status": status,
    }


@pytest.fixture
def portal() -> Iterator[Portal]:
    with portal_server(Portal()) as p:
        yield p


def connector(portal: Portal, db: Path, **over: Any) -> tuple[PullConnector, SqliteStore]:
    source = PullSource.model_validate(
        {
            "id": "portal",
            "type": "pull",
            "kind": "dossier",
            "url": portal.url,
            "items_key": "items",
            "auth_env": "PORTAL_TOKEN",
            "retries": 2,
            "backoff_seconds": 0.01,
            "timeout_seconds": 0.5,
            **over,
        }
    )
    store = SqliteStore(db)
    return PullConnector(source, store, env={"PORTAL_TOKEN": TOKEN}), store


def ids(store: SqliteStore) -> list[str]:
    return sorted(s.record.id for s in store.kpi_records(RecordKind.DOSSIER))


def polls(outcome: str) -> float:
    return REGISTRY.get_sample_value("ioc_kpi_polls_total", {"source": "portal", "outcome": outcome}) or 0.0


def test_cursor_advances_and_survives_a_restart(portal: Portal, tmp_path: Path) -> None:
    portal.records = [raw(1, "02T08:00:00"), raw(2, "03T08:00:00")]
    conn, store = connector(portal, tmp_path / "ioc.db")
    result = conn.poll()
    assert result is not None and result.accepted == 2
    assert portal.requests[0][0] == {}  # the very first poll has no cursor
    assert portal.requests[0][1]["Authorization"] == TOKEN
    assert store.get_cursor("portal") == "2026-09-03T08:00:00+07:00"
    store.close()

    portal.records.append(raw(3, "04T08:00:00"))
    portal.records[0] = raw(1, "05T08:00:00", status=9) | {"finished_at": "2026-09-05T08:00:00+07:00"}
    conn, store = connector(portal, tmp_path / "ioc.db")  # a restart: a new connector, the same db
    result = conn.poll()
    assert portal.requests[1][0] == {"updated_since": "2026-09-03T08:00:00+07:00"}
    assert result is not None and result.accepted == 3  # HS-2 again (same time) + HS-3 + updated HS-1
    assert ids(store) == ["HS-1", "HS-2", "HS-3"]  # updated in place, never duplicated
    assert next(s.record for s in store.kpi_records(RecordKind.DOSSIER) if s.record.id == "HS-1").status == 9
    assert store.get_cursor("portal") == "2026-09-05T08:00:00+07:00"
    store.close()


@pytest.mark.parametrize(
    "failure",
    [("500", None), ("malformed", None), ("slow", 1.5)],
    ids=["http-500", "malformed-json", "timeout"],
)
def test_a_failed_attempt_is_retried_and_nothing_is_lost(
    portal: Portal, tmp_path: Path, failure: tuple[str, Any]
) -> None:
    portal.records = [raw(1, "02T08:00:00"), raw(2, "03T08:00:00")]
    portal.script = [failure]
    conn, store = connector(portal, tmp_path / "ioc.db")
    failed_before = polls("failed")
    result = conn.poll()
    assert result is not None and result.accepted == 2
    assert len(portal.requests) == 2 and polls("failed") == failed_before + 1
    assert ids(store) == ["HS-1", "HS-2"]
    store.close()


def test_when_every_retry_fails_the_cursor_stays(portal: Portal, tmp_path: Path) -> None:
    portal.records = [raw(1, "02T08:00:00")]
    conn, store = connector(portal, tmp_path / "ioc.db")
    assert conn.poll() is not None
    portal.records.append(raw(2, "03T08:00:00"))
    portal.script = [("500", None)] * 3  # first try + 2 retries
    assert conn.poll() is None
    assert store.get_cursor("portal") == "2026-09-02T08:00:00+07:00"
    assert conn.poll() is not None  # next interval: the server is back
    assert ids(store) == ["HS-1", "HS-2"]
    store.close()


def test_invalid_records_are_refused_the_rest_kept(portal: Portal, tmp_path: Path) -> None:
    bad = raw(2, "03T08:00:00") | {"status": 11}
    naive = raw(3, "03T09:00:00") | {"received_at": "2026-09-01T08:00:00"}
    portal.records = [raw(1, "02T08:00:00"), bad, naive]
    conn, store = connector(portal, tmp_path / "ioc.db")
    result = conn.poll()
    assert result is not None and result.accepted == 1
    reasons = {r.id: r.reasons for r in result.refused}
    assert reasons["HS-2"] == ("status: Input should be 1, 2, 3, 4, 5, 6, 7, 8, 9 or 10",)
    assert reasons["HS-3"] == ("received_at: Input should have timezone info",)
    assert ids(store) == ["HS-1"]
    store.close()


def test_a_missing_auth_variable_fails_the_poll(portal: Portal, tmp_path: Path) -> None:
    conn, store = connector(portal, tmp_path / "ioc.db")
    conn._env = {}  # type: ignore[assignment]
    assert conn.poll() is None
    assert portal.requests == []
    store.close()


def test_an_open311_server_is_pulled_as_field_reports(portal: Portal, tmp_path: Path) -> None:
    portal.records = [
        {
            "service_request_id": 638344,
            "status": "closed",
            "status_notes": "Đã sửa",
            "service_code": "den-duong",
            "service_name": "Đèn đường",
            "description": "Đèn tắt",
            "agency_responsible": "Điện lực",
            "requested_datetime": "2026-09-02T08:00:00+07:00",
            "updated_datetime": "2026-09-03T08:00:00+07:00",
            "expected_datetime": "2026-09-04T08:00:00+07:00",
            "lat": 10.77,
            "long": 106.7,
            "extended_attributes": {"urgency": "urgent", "rating": 5},
        },
        {
            "service_request_id": "PA-9",
            "status": "open",
            "service_code": "o-ga",
            "address": "12 Lê Lợi",
            "requested_datetime": "2026-09-05T08:00:00+07:00",
            "extended_attributes": {"step": "closed"},
        },
    ]
    conn, store = connector(portal, tmp_path / "ioc.db", kind="field_report", format="open311")
    result = conn.poll()
    assert result is not None and (result.accepted, result.refused) == (2, ())
    reports = {s.record.id: s.record for s in store.kpi_records(RecordKind.FIELD_REPORT)}
    closed, open_ = reports["638344"], reports["PA-9"]
    assert (closed.step.value, closed.answer, closed.agency, closed.urgency, closed.rating) == (
        "closed",
        "Đã sửa",
        "Điện lực",
        "urgent",
        5,
    )
    assert closed.closed_at is not None and closed.closed_at.isoformat() == "2026-09-03T08:00:00+07:00"
    assert open_.step.value == "in_progress"  # the standard's "open" wins over a stale extended step
    assert store.get_cursor("portal") == "2026-09-05T08:00:00+07:00"
    store.close()
