"""Working-hours arithmetic for public-service deadlines, in the site's time zone.

A :class:`WorkCalendar` says when the administration works: daily periods (default 07:00–11:30
and 13:30–17:00), working weekdays (default Monday–Friday), holidays (never working, even on a
weekday) and make-up days (working, even on a weekend), all in one IANA time zone.

- :meth:`WorkCalendar.working_seconds` counts the working seconds between two instants (negative
  when the second is earlier). Due 11:30, finished 13:31 the same day: 60 seconds late; finished
  12:45 (lunch): 0, not late.
- :meth:`WorkCalendar.add_working` is the instant after a number of working seconds from a start
  (a deadline of N working hours). A deadline that lands exactly on the end of a period stays
  there (due 11:30, not 13:30).
- :meth:`WorkCalendar.overdue_cutoff` and :meth:`WorkCalendar.near_due_until` turn "overdue at
  ``now``" and "due within N working hours of ``now``" into plain comparisons of the due instant
  (``due < cutoff``; ``due <= until``), computed once for ``now`` and exact for every due: what
  lets a store count them with an index instead of walking the calendar per dossier.

Instants may be in any zone (a naive one is taken as UTC); results are in the calendar's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
DEFAULT_WEEKDAYS = frozenset({1, 2, 3, 4, 5})
MAX_DAYS = 3660
"""How far ``add_working`` looks ahead before it gives up (a calendar with almost no working day)."""


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    timezone: str = "Asia/Ho_Chi_Minh"
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    weekdays: frozenset[int] = DEFAULT_WEEKDAYS
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_days:
            return True
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def local(self, moment: datetime) -> datetime:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(self.zone)

    def _windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Working windows from the day ``first`` on, in order, for at most ``MAX_DAYS`` days."""
        zone = self.zone
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            if self.is_working_day(day):
                for start, end in self.periods:
                    yield (datetime.combine(day, start, zone), datetime.combine(day, end, zone))

    def working_seconds(self, start: datetime, end: datetime, cap: float | None = None) -> float:
        """Working seconds from ``start`` to ``end`` (negative when ``end`` is earlier). With
        ``cap``, counting stops once the total passes it (the result is then only known to be
        > ``cap``): enough to tell "due within N hours" without walking to a far deadline."""
        a, b = self.local(start), self.local(end)
        if b < a:
            return -self.working_seconds(end, start, cap)
        total = 0.0
        for w_start, w_end in self._windows(a.date()):
            if w_start >= b or (cap is not None and total > cap):
                break
            lo, hi = max(a, w_start), min(b, w_end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def add_working(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` working seconds after ``start`` (``seconds`` ≥ 0)."""
        if seconds < 0:
            raise ValueError(f"expected working seconds ≥ 0, got {seconds}")
        cursor = self.local(start)
        left = seconds
        for w_start, w_end in self._windows(cursor.date()):
            if w_end <= cursor:
                continue
            lo = max(cursor, w_start)
            span = (w_end - lo).total_seconds()
            if left <= span:
                return lo + timedelta(seconds=left)
            left -= span
        raise ValueError(f"no working time within {MAX_DAYS} days of {start.isoformat()}")

    def overdue_cutoff(self, now: datetime) -> datetime:
        """The instant ``c`` such that ``working_seconds(due, now) > 0`` exactly when ``due < c``:
        ``now`` itself when working time ends at ``now`` (inside a period or at its end), else the
        end of the last period before ``now`` (due 11:45, now 12:45 in the lunch break: not
        overdue; due 11:29: overdue). A calendar with no working time in the ``MAX_DAYS`` before
        ``now`` gives ``now - MAX_DAYS`` (nothing that recent is overdue)."""
        moment = self.local(now)
        for offset in range(MAX_DAYS):
            day = moment.date() - timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            for start, end in reversed(self.periods):
                w_start, w_end = (
                    datetime.combine(day, start, self.zone),
                    datetime.combine(day, end, self.zone),
                )
                if w_start < moment:
                    return min(moment, w_end)
        return moment - timedelta(days=MAX_DAYS)

    def near_due_until(self, now: datetime, seconds: float) -> datetime:
        """The latest instant ``u`` such that ``working_seconds(now, due) <= seconds`` for every due
        in ``[now, u]`` (and for no later one): ``add_working(now, seconds)``, carried over the gap
        that follows when that lands on the end of a period (due 11:30 and due 13:30 are both 0
        working seconds after 11:30)."""
        until = self.add_working(now, seconds)
        for w_start, w_end in self._windows(until.date()):
            if w_end <= until:
                continue
            return max(until, w_start)
        return until
