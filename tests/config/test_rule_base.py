from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ioc.config.rule_base import Schedule

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Local time on 2026-11-30 (a Monday) + ``day`` days: 0 = Monday … 6 = Sunday."""
    return datetime(2026, 11, 30, hh, mm, tzinfo=HCM) + timedelta(days=day)


@pytest.mark.parametrize(
    ("window", "when", "active"),
    [
        pytest.param(("08:00", "17:00", None), at(0, 8), True, id="day-window-start-inclusive"),
        pytest.param(("08:00", "17:00", None), at(0, 17), False, id="day-window-end-exclusive"),
        pytest.param(("08:00", "17:00", None), at(0, 7, 59), False, id="day-window-before"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(0, 22, 30), True, id="overnight-monday-evening"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(1, 5, 29), True, id="overnight-tuesday-small-hours"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(1, 5, 30), False, id="overnight-ends-at-to"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(0, 12), False, id="overnight-midday"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(5, 23), False, id="overnight-not-saturday-evening"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(5, 3), True, id="friday-window-runs-into-saturday"),
        pytest.param(("22:00", "05:30", WEEKDAYS), at(0, 3), False, id="sunday-window-not-listed"),
    ],
)
def test_schedule_windows(window: tuple[str, str, list[str] | None], when: datetime, active: bool) -> None:
    start, end, days = window
    data = {"from": start, "to": end} | ({"days": days} if days else {})
    assert Schedule.model_validate(data).active(when) is active
