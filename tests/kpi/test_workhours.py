"""Working-hours maths: lunch, weekends, holidays, make-up days, in the site's time zone."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ioc.kpi.workhours import WorkCalendar

VN = timezone(timedelta(hours=7))
CAL = WorkCalendar(
    timezone="Asia/Ho_Chi_Minh",
    holidays=frozenset({date(2026, 9, 2)}),  # Wednesday
    makeup_days=frozenset({date(2026, 9, 5)}),  # Saturday
)


def t(day: int, hh: int, mm: int = 0, month: int = 9) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=VN)


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        (t(1, 11, 30), t(1, 13, 31), 60),  # due 11:30, done 13:31: one working minute late
        (t(1, 11, 30), t(1, 12, 45), 0),  # lunch break
        (t(1, 7), t(1, 17), 8 * 3600),  # a whole day is 8 working hours
        (t(1, 6), t(1, 7, 30), 30 * 60),  # before opening counts nothing
        (t(1, 16, 30), t(1, 20), 30 * 60),  # after closing counts nothing
        (t(1, 16), t(3, 8), 3600 + 3600),  # Tue 16:00 → Thu 08:00 skipping the holiday (Wed)
        (t(4, 16), t(7, 8), 3600 + 8 * 3600 + 3600),  # Fri → Mon across the make-up Saturday
        (t(11, 16), t(14, 8), 3600 + 3600),  # Fri → Mon across an ordinary weekend
        (t(1, 13, 31), t(1, 11, 30), -60),  # reversed: negative
        (datetime(2026, 9, 1, 3, 30, tzinfo=UTC), t(1, 13, 30), 3600),  # 10:30 local, in UTC
    ],
)
def test_working_seconds(start: datetime, end: datetime, seconds: float) -> None:
    assert CAL.working_seconds(start, end) == seconds


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (t(1, 7), 4.5, t(1, 11, 30)),  # ends on the end of a period: stays there
        (t(1, 7), 5, t(1, 14)),  # over lunch
        (t(1, 12), 1, t(1, 14, 30)),  # received at lunch: the clock starts at 13:30
        (t(1, 16), 2, t(3, 8)),  # over the holiday
        (t(4, 16), 2, t(5, 8)),  # into the make-up Saturday
        (t(11, 16), 2, t(14, 8)),  # over a weekend
        (t(12, 10), 0, t(14, 7)),  # received on a Saturday: due when work starts
        (t(1, 7), 16, t(3, 17)),  # two working days: Tuesday and Thursday (Wednesday is a holiday)
    ],
)
def test_add_working(start: datetime, hours: float, due: datetime) -> None:
    assert CAL.add_working(start, hours * 3600) == due


def test_working_days() -> None:
    assert [CAL.is_working_day(date(2026, 9, d)) for d in range(1, 8)] == [
        True,  # Tue
        False,  # Wed, holiday
        True,
        True,
        True,  # Sat, make-up day
        False,  # Sun
        True,
    ]


def test_a_calendar_without_working_time_is_refused_not_looped() -> None:
    with pytest.raises(ValueError, match="no working time"):
        WorkCalendar(weekdays=frozenset()).add_working(t(1, 7), 3600)


def _instants(seed: int, n: int) -> list[datetime]:
    """Minutes around the period edges, and anywhere, over two weeks with a holiday and a make-up day."""
    rng = random.Random(seed)
    edges = [(6, 59), (7, 0), (7, 1), (11, 29), (11, 30), (11, 31), (12, 45), (13, 30), (16, 59), (17, 0)]
    out = []
    for _ in range(n):
        day = 29 + rng.randrange(14)
        hh, mm = rng.choice(edges) if rng.random() < 0.7 else (rng.randrange(24), rng.randrange(60))
        out.append(datetime(2026, 8, 1, tzinfo=VN) + timedelta(days=day - 1, hours=hh, minutes=mm))
    return out


@pytest.mark.parametrize("now", _instants(1, 30))
def test_overdue_cutoff_is_exactly_when_working_time_has_passed(now: datetime) -> None:
    cutoff = CAL.overdue_cutoff(now)
    for due in [*_instants(2, 60), cutoff, cutoff - timedelta(seconds=1), cutoff + timedelta(seconds=1)]:
        assert (CAL.working_seconds(due, now) > 0) == (due < cutoff), (due, now, cutoff)


@pytest.mark.parametrize("now", _instants(3, 30))
@pytest.mark.parametrize("hours", [0.0, 1.0, 4.0, 8.0])
def test_near_due_until_is_the_last_due_within_the_working_hours(now: datetime, hours: float) -> None:
    until = CAL.near_due_until(now, hours * 3600)
    dues = [due for due in _instants(4, 60) if due >= now]
    for due in [*dues, until, until - timedelta(seconds=1), until + timedelta(seconds=1)]:
        if due >= now:
            assert (CAL.working_seconds(now, due) <= hours * 3600) == (due <= until), (due, now, until)


def test_near_due_until_crosses_the_lunch_break_after_a_period_end() -> None:
    assert CAL.near_due_until(t(7, 7, 30), 4 * 3600) == t(7, 13, 30)  # 11:30 … 13:30: still 4 h
    assert CAL.add_working(t(7, 7, 30), 4 * 3600) == t(7, 11, 30)
    assert CAL.overdue_cutoff(t(7, 12, 45)) == t(7, 11, 30)
    assert CAL.overdue_cutoff(t(7, 6, 0)) == t(5, 17, 0)  # Monday before opening: the make-up Saturday
