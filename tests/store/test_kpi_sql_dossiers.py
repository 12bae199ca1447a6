"""Dossier KPIs counted in SQL (ioc/store/kpi_dossiers.py) equal the reference formulas of
ioc/kpi/dossiers.py, on both engines: randomized dossiers of every status code, with received /
due / settled times on and around the working-hours edges, at many instants and periods."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from ioc.config.kpi_models import RecordKind
from ioc.kpi import dossiers as dk
from ioc.kpi.records import Dossier
from ioc.kpi.workhours import WorkCalendar
from ioc.store.sql import SqlStore
from ioc.store.sqlite import SqliteStore
from tests.kpi.factories import VN

CAL = WorkCalendar(holidays=frozenset({date(2026, 9, 2)}), makeup_days=frozenset({date(2026, 9, 5)}))
RULES = dk.DossierRules(CAL, near_due_hours=4.0, early_hours=8.0)
EDGES = [
    time(6, 59),
    time(7, 0),
    time(7, 1),
    time(11, 29),
    time(11, 29, 59),
    time(11, 30),
    time(11, 31),
    time(12, 45),
    time(13, 29),
    time(13, 30),
    time(13, 30, 1),
    time(16, 59),
    time(17, 0),
    time(17, 1),
    time(20, 0),
]
FIRST_DAY = date(2026, 8, 24)  # a Monday; the fixtures run to late September (weekends, 2/9 off, 5/9 on)


def _instant(rng: random.Random) -> datetime:
    day = FIRST_DAY + timedelta(days=rng.randrange(35))
    if rng.random() < 0.7:
        clock = rng.choice(EDGES)
    else:
        clock = time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, clock, VN)


def _after(rng: random.Random, start: datetime) -> datetime:
    """A later instant: an exact number of working hours (the early / near-due edges), or an edge."""
    pick = rng.random()
    if pick < 0.4:
        hours = rng.choice((0, 1, 4, 8, 16, 40))
        return CAL.add_working(start, max(0, hours * 3600 + rng.choice((-60, 0, 0, 60))))
    if pick < 0.7:
        later = _instant(rng)
        return later if later >= start else start + (start - later)
    return start + timedelta(minutes=rng.randrange(0, 60 * 24 * 6))


def _dossier(rng: random.Random, n: int) -> Dossier:
    received = _instant(rng)
    status = rng.randint(1, 10)
    due = _after(rng, received) if rng.random() < 0.85 else None
    finished = _after(rng, received) if status in (9, 10) or rng.random() < 0.1 else None
    return Dossier.model_validate(
        {
            "id": f"HS-{n}",
            "updated_at": received,
            "procedure": rng.choice(("P1", "P2", "P3")),
            "field": rng.choice(("F1", "F2")),
            "agency": rng.choice(("A", "B", "C", "Sở Tư pháp")),
            "channel": rng.choice(("online", "in_person", "postal")),
            "received_at": received,
            "due_at": due,
            "finished_at": finished,
            "status": status,
        }
    )


def _at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 9, day, hh, mm, tzinfo=VN)


def _edge(n: int, due: datetime, status: int = 4) -> Dossier:
    """An open dossier received on 31/8 with ``due``."""
    received = datetime(2026, 8, 31, 8, tzinfo=VN)
    raw = {"id": f"E-{n}", "updated_at": received, "procedure": "P1", "field": "F1", "agency": "C"}
    return Dossier.model_validate(
        raw | {"channel": "online", "received_at": received, "due_at": due, "status": status}
    )


EDGE_NOW = [_at(7, 7, 30), _at(7, 12, 45), _at(5, 10), _at(2, 10), _at(4, 17, 0), _at(7, 13, 30)]
"""Mon 07:30 (4 working hours later is 11:30, the end of a period), Mon 12:45 (lunch), the Saturday
make-up day, the holiday, Friday's closing time, Monday 13:30."""
EDGE_DUES = (
    *(_at(7, 11, 29), _at(7, 11, 30), _at(7, 12, 45), _at(7, 13, 30), _at(7, 13, 31), _at(7, 12)),
    *(_at(4, 16, 59), _at(4, 17), _at(5, 13, 59), _at(2, 9), _at(3, 7), _at(7, 7, 1), _at(8, 7, 30)),
)
EDGE_DOSSIERS = [_edge(n, due) for n, due in enumerate(EDGE_DUES)]
_RNG = random.Random(8)
DOSSIERS = [_dossier(_RNG, n) for n in range(700)] + EDGE_DOSSIERS
INSTANTS = EDGE_NOW + [_instant(random.Random(seed)) for seed in range(40)]
PERIODS = [
    dk.Period(datetime(2026, 9, 1, tzinfo=VN), datetime(2026, 10, 1, tzinfo=VN)),
    dk.Period(datetime(2026, 9, 7, tzinfo=VN), datetime(2026, 9, 8, tzinfo=VN)),
    dk.Period(datetime(2026, 9, 2, 11, 30, tzinfo=VN), datetime(2026, 9, 9, 13, 30, tzinfo=VN)),
]


def _fill(store: SqlStore) -> None:
    for source in ("portal", "other"):  # the same ids under two sources: two dossiers each
        store.upsert_records(source, RecordKind.DOSSIER, DOSSIERS)


def _reference(
    period: dk.Period, now: datetime, by: dk.GroupBy | None, agency: str | None
) -> dict[str, dict[str, object]]:
    items = [d for d in DOSSIERS for _ in range(2) if agency is None or d.agency == agency]
    if by is None:
        return {"": dk.compute(items, period, now, RULES).as_dict()}
    return {k: v.as_dict() for k, v in dk.compute_by(items, by, period, now, RULES).items()}


def _sql(
    store: SqlStore, period: dk.Period, now: datetime, by: dk.GroupBy | None, agency: str | None
) -> dict[str, dict[str, object]]:
    return {k: v.as_dict() for k, v in store.dossier_kpi_groups(period, now, RULES, by, agency).items()}


def test_the_fixtures_cover_every_status_and_outcome() -> None:
    assert {int(d.status) for d in DOSSIERS} == set(range(1, 11))
    finished = [d for d in DOSSIERS if d.is_finished]
    assert {dk.outcome(d, RULES) for d in finished} == {"early", "on_time", "late"}
    margins = {CAL.working_seconds(d.finished_at, d.due_at) for d in finished if d.due_at and d.finished_at}
    assert {0.0, 8 * 3600.0} <= margins  # settled exactly at due, exactly early_hours before it


def test_sql_kpis_equal_the_reference_formulas(store: SqlStore) -> None:
    _fill(store)
    seen_overdue = seen_near = 0
    for i, now in enumerate(INSTANTS):
        period = PERIODS[i % len(PERIODS)]
        for by in (None, "agency", "field", "procedure"):
            for agency in (None, "B"):
                want = _reference(period, now, by, agency)
                assert _sql(store, period, now, by, agency) == want, (now, period, by, agency)
        total = _reference(period, now, None, None)[""]
        seen_overdue += bool(total["open_overdue"])
        seen_near += bool(total["near_due"])
    assert seen_overdue and seen_near  # the instants exercise both


@pytest.mark.parametrize("now", INSTANTS[:14])
def test_overdue_and_flagged_rows_equal_the_reference(store: SqlStore, now: datetime) -> None:
    _fill(store)
    overdue = [d for d in DOSSIERS if dk.is_overdue(d, now, CAL)]
    near = [d for d in DOSSIERS if dk.is_near_due(d, now, RULES)]
    rows = store.overdue_dossier_rows(now, RULES)
    assert sorted((s, Dossier.model_validate_json(b).id) for s, b in rows) == sorted(
        (s, d.id) for s in ("portal", "other") for d in overdue
    )
    hours = [dk.overdue_seconds(Dossier.model_validate_json(b), now, CAL) for _, b in rows]
    assert hours == sorted(hours, reverse=True)  # most overdue first
    assert store.overdue_dossier_rows(now, RULES, limit=3) == rows[:3]
    flagged = {(s, rid, late) for s, rid, late, _ in store.flagged_dossier_rows(now, RULES)}
    assert flagged == {(s, d.id, True) for s in ("portal", "other") for d in overdue} | {
        (s, d.id, False) for s in ("portal", "other") for d in near
    }


def test_a_calendar_change_recomputes_the_stored_outcomes(store: SqlStore) -> None:
    _fill(store)
    month, now = PERIODS[0], INSTANTS[0]
    assert _sql(store, month, now, "agency", None) == _reference(month, now, "agency", None)
    days_off = frozenset(FIRST_DAY + timedelta(days=k) for k in range(8, 20, 3))
    other = dk.DossierRules(WorkCalendar(holidays=days_off), near_due_hours=2.0, early_hours=4.0)
    items = [d for d in DOSSIERS for _ in range(2)]
    want = {k: v.as_dict() for k, v in dk.compute_by(items, "agency", month, now, other).items()}
    assert want != _reference(month, now, "agency", None)
    got = store.dossier_kpi_groups(month, now, other, "agency")
    assert {k: v.as_dict() for k, v in got.items()} == want
    assert store.ensure_dossier_facts(other) == 0  # nothing left to recompute


def test_a_newer_version_moves_the_dossier(store: SqlStore) -> None:
    received = datetime(2026, 9, 7, 9, tzinfo=VN)
    raw: dict[str, Any] = {
        "id": "HS-X",
        "updated_at": received,
        "procedure": "P1",
        "field": "F1",
        "agency": "A",
        "channel": "online",
        "received_at": received,
        "due_at": received + timedelta(hours=2),
        "status": 4,
    }
    now = datetime(2026, 9, 8, 9, tzinfo=VN)
    store.upsert_records("portal", RecordKind.DOSSIER, [Dossier.model_validate(raw)])
    assert store.dossier_kpi_groups(PERIODS[0], now, RULES)[""].open_overdue == 1
    settled = raw | {"status": 9, "finished_at": now, "updated_at": now, "agency": "B"}
    store.upsert_records("portal", RecordKind.DOSSIER, [Dossier.model_validate(settled)])
    got = store.dossier_kpi_groups(PERIODS[0], now, RULES, "agency")
    assert {k: (v.open_overdue, v.late) for k, v in got.items()} == {"B": (0, 1)}


def test_an_older_database_gets_the_columns_and_its_rows_filled_in(tmp_path: Path) -> None:
    path = tmp_path / "ioc.db"
    old = sqlite3.connect(path)  # kpi_records as it was before the dossier columns
    old.execute(
        """CREATE TABLE kpi_records (source TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
           updated_ts DOUBLE PRECISION NOT NULL, body TEXT NOT NULL, PRIMARY KEY (source, id))"""
    )
    old.executemany(
        "INSERT INTO kpi_records VALUES (?, ?, 'dossier', ?, ?)",
        [
            (s, d.id, d.updated_at.timestamp(), d.model_dump_json())
            for s in ("portal", "other")
            for d in DOSSIERS
        ],
    )
    old.commit()
    old.close()
    store = SqliteStore(path)
    try:
        month, now = PERIODS[0], INSTANTS[3]
        assert _sql(store, month, now, "field", None) == _reference(month, now, "field", None)
        assert store.ensure_dossier_facts(RULES) == 0
    finally:
        store.close()
