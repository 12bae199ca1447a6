"""Dossier KPIs on hand-built dossiers with exact expected numbers (formulas: ioc/kpi/dossiers.py)."""

from __future__ import annotations

import pytest

from ioc.kpi.dossiers import DossierRules, Period, compute, compute_by, outcome
from ioc.kpi.workhours import WorkCalendar
from tests.kpi.factories import at, dossier

RULES = DossierRules(WorkCalendar(), near_due_hours=4, early_hours=8)
SEPTEMBER = Period(at(9, 1, 0), at(10, 1, 0))
NOW = at(9, 15, 10)  # Tuesday 10:00

DOSSIERS = [
    dossier(1, at(8, 28), due=at(9, 4, 17), finished=at(9, 3, 10), status=10),  # early, carried over
    dossier(2, at(9, 2), due=at(9, 8, 11, 30), finished=at(9, 8, 13, 31), status=9),  # late by 1 min
    dossier(
        3,
        at(9, 2),
        due=at(9, 8, 11, 30),
        finished=at(9, 8, 12, 45),
        status=9,
        agency="B",
        channel="in_person",
    ),  # on time: lunch break
    dossier(4, at(9, 10), due=at(9, 14, 17), agency="B"),  # open, overdue by 3 working hours
    dossier(5, at(9, 14), due=at(9, 15, 13), channel="postal"),  # open, near due
    dossier(6, at(9, 14), due=at(9, 25, 17), status=5),  # paused (supplement requested)
    dossier(7, at(9, 3), status=3, agency="B"),  # not accepted
    dossier(8, at(8, 20), due=at(8, 28, 17), finished=at(8, 25), status=9),  # done before the period
    dossier(9, at(9, 11), due=at(9, 30, 17), agency="B"),  # open, within deadline
]


def test_totals_for_a_period() -> None:
    assert compute(DOSSIERS, SEPTEMBER, NOW, RULES).as_dict() == {
        "received": 7,
        "received_by_channel": {"in_person": 1, "online": 5, "postal": 1},
        "carried_over": 1,
        "finished": 3,
        "early": 1,
        "on_time": 1,
        "late": 1,
        "on_time_rate": 66.7,
        "open_within_deadline": 2,
        "open_overdue": 1,
        "near_due": 1,
        "paused": 1,
    }


def test_per_agency() -> None:
    groups = {k: v.as_dict() for k, v in compute_by(DOSSIERS, "agency", SEPTEMBER, NOW, RULES).items()}
    assert list(groups) == ["A", "B"]
    a, b = groups["A"], groups["B"]
    assert (a["received"], a["carried_over"], a["early"], a["late"], a["on_time_rate"]) == (3, 1, 1, 1, 50.0)
    assert (a["near_due"], a["paused"], a["open_overdue"]) == (1, 1, 0)
    assert (b["received"], b["on_time"], b["on_time_rate"], b["open_overdue"], b["open_within_deadline"]) == (
        4,
        1,
        100.0,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (at(9, 8, 11, 30), "on_time"),  # exactly at due
        (at(9, 8, 13, 30), "on_time"),  # after lunch, no working time past due
        (at(9, 8, 13, 31), "late"),
        (at(9, 7, 11, 30), "early"),  # exactly 8 working hours before
        (at(9, 7, 13, 31), "on_time"),  # one working minute less (11:30-13:30 is lunch)
        (at(9, 5, 12), "early"),  # on Saturday (not a working day), still > 8 h before
    ],
)
def test_outcome_edges(finished: object, expected: str) -> None:
    d = dossier(1, at(9, 1), due=at(9, 8, 11, 30), finished=finished, status=9)
    assert outcome(d, RULES) == expected


def test_no_finished_dossier_means_no_rate() -> None:
    assert compute([DOSSIERS[3]], SEPTEMBER, NOW, RULES).on_time_rate is None
