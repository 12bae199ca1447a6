"""KPI records and cursors in both stores (SQLite and PostgreSQL, the same SQL)."""

from __future__ import annotations

from ioc.config.kpi_models import RecordKind
from ioc.store.sql import SqlStore
from tests.kpi.factories import at, dossier, report


def test_upsert_is_idempotent_by_source_and_id(store: SqlStore) -> None:
    first = dossier(1, at(9, 1))
    assert store.upsert_records("portal", RecordKind.DOSSIER, [first, dossier(2, at(9, 1))]) == 2
    assert store.upsert_records("portal", RecordKind.DOSSIER, [first]) == 1  # the same again: no duplicate
    assert store.upsert_records("other", RecordKind.DOSSIER, [first]) == 1  # another source: its own row
    done = dossier(1, at(9, 1), finished=at(9, 3), status=9)
    store.upsert_records("portal", RecordKind.DOSSIER, [done])
    rows = store.kpi_records(RecordKind.DOSSIER, source="portal")
    assert [(r.record.id, r.record.status.value) for r in rows] == [("HS-2", 4), ("HS-1", 9)]
    assert store.count_kpi_records(RecordKind.DOSSIER) == 3


def test_an_older_version_never_overwrites_a_newer_one(store: SqlStore) -> None:
    done = dossier(1, at(9, 1), finished=at(9, 3), status=9)
    store.upsert_records("portal", RecordKind.DOSSIER, [done])
    assert store.upsert_records("portal", RecordKind.DOSSIER, [dossier(1, at(9, 1))]) == 0
    (row,) = store.kpi_records(RecordKind.DOSSIER)
    assert row.record == done


def test_kinds_are_kept_apart(store: SqlStore) -> None:
    store.upsert_records("app", RecordKind.FIELD_REPORT, [report(1, at(9, 2))])
    store.upsert_records("portal", RecordKind.DOSSIER, [dossier(1, at(9, 1))])
    assert [r.source for r in store.kpi_records(RecordKind.FIELD_REPORT)] == ["app"]
    assert store.kpi_records(RecordKind.HOTLINE) == []


def test_cursor_is_kept_and_replaced(store: SqlStore) -> None:
    assert store.get_cursor("portal") is None
    store.set_cursor("portal", "2026-09-01T08:00:00+07:00")
    store.set_cursor("portal", "2026-09-02T08:00:00+07:00")
    assert store.get_cursor("portal") == "2026-09-02T08:00:00+07:00"
