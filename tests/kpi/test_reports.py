"""Field-report, hotline and indicator KPIs with exact expected numbers (ioc/kpi/reports.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ioc.kpi.dossiers import Period
from ioc.kpi.records import HotlineCall, Indicator
from ioc.kpi.reports import hotline_rows, indicator_rows, percentile, report_kpis, report_kpis_by
from tests.kpi.factories import at, report

SEPTEMBER = Period(at(9, 1, 0), at(10, 1, 0))
NOW = at(9, 15, 10)
REPORTS = [
    report(1, at(9, 2), expected=at(9, 5), closed=at(9, 3)),  # 24 h, SLA met
    report(2, at(9, 4), expected=at(9, 5), closed=at(9, 6), code="o-ga"),  # 48 h, SLA missed
    report(3, at(9, 10), closed=at(9, 10, 15), agency="B"),  # 6 h, no SLA
    report(4, at(9, 12), expected=at(9, 14), code="o-ga", agency="B"),  # open, overdue
    report(5, at(9, 15, 9), expected=at(9, 18)),  # open
    report(6, at(8, 30), closed=at(8, 31)),  # before the period
]


def test_report_totals() -> None:
    assert report_kpis(REPORTS, SEPTEMBER, NOW).as_dict() == {
        "received": 5,
        "backlog": 2,
        "overdue_open": 1,
        "closed": 3,
        "median_hours_to_close": 24.0,
        "p90_hours_to_close": 48.0,
        "sla_met_rate": 50.0,
    }


def test_reports_by_category() -> None:
    groups = {k: v.as_dict() for k, v in report_kpis_by(REPORTS, "category", SEPTEMBER, NOW).items()}
    assert groups["rac-thai"] == {
        "received": 3,
        "backlog": 1,
        "overdue_open": 0,
        "closed": 2,
        "median_hours_to_close": 15.0,
        "p90_hours_to_close": 24.0,
        "sla_met_rate": 100.0,
    }
    assert groups["o-ga"] == {
        "received": 2,
        "backlog": 1,
        "overdue_open": 1,
        "closed": 1,
        "median_hours_to_close": 48.0,
        "p90_hours_to_close": 48.0,
        "sla_met_rate": 0.0,
    }


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([5.0], 90, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90, 9.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == expected


def _call(n: int, moment: datetime, answered: bool, branch: str = "1022") -> HotlineCall:
    return HotlineCall(
        id=f"c{n}", updated_at=moment, at=moment, branch=branch, topic="TTHC", answered=answered
    )


def test_hotline_per_local_day_branch_topic() -> None:
    calls = [
        _call(1, at(9, 15, 8), True),
        _call(2, at(9, 15, 9), False),
        _call(3, at(9, 15, 10), True, branch="CCHC"),
        _call(4, datetime(2026, 9, 14, 23, 30, tzinfo=UTC), True),  # 06:30 on the 15th in Vietnam
        _call(5, at(9, 14, 20), False),
        _call(6, at(8, 31, 20), True),  # outside the period
    ]
    rows = hotline_rows(calls, SEPTEMBER, timezone(timedelta(hours=7)))
    assert [(r.day, r.branch, r.calls, r.answered, r.missed, r.answer_rate) for r in rows] == [
        ("2026-09-14", "1022", 1, 0, 1, 0.0),
        ("2026-09-15", "1022", 3, 2, 1, 66.7),
        ("2026-09-15", "CCHC", 1, 1, 0, 100.0),
    ]


def test_indicator_latest_value_target_and_trend() -> None:
    values = [
        Indicator(
            id=f"g{m}",
            updated_at=NOW,
            indicator="grdp",
            unit="%",
            period=f"2026-{m:02d}",
            value=v,
            target=8.0,
        )
        for m, v in ((3, 7.0), (1, 6.0), (2, 6.5))
    ]
    (row,) = indicator_rows(values)
    assert (row.period, row.value, row.target, row.vs_target, row.trend) == (
        "2026-03",
        7.0,
        8.0,
        87.5,
        (6.0, 6.5, 7.0),
    )
