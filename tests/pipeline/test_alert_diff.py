"""Matching two runs' alerts for ``ioc replay --compare``: appear, disappear, change, same."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.messages import Alert
from ioc.pipeline.alert_diff import Incident, compare, diff_lines, incidents
from tests.factories import make_alert


def inc(rule: str, start: float, end: float, **fields: Any) -> Incident:
    data: dict[str, Any] = {
        "alert_id": f"{rule}-{start}",
        "rule_id": rule,
        "rule_type": "intrusion",
        "severity": "warning",
        "track_id": 1,
        "object_class": "person",
        "direction": None,
        "start_s": start,
        "end_s": end,
    }
    data.update(fields)
    return Incident(**data)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param([inc("r1", 1, 5)], [inc("r1", 1.2, 5.3)], (0, 0, 0, 1), id="same-within-tolerance"),
        pytest.param([inc("r1", 1, 5)], [], (0, 1, 0, 0), id="disappears"),
        pytest.param([], [inc("r1", 1, 5)], (1, 0, 0, 0), id="appears"),
        pytest.param([inc("r1", 1, 5)], [inc("r2", 1, 5)], (1, 1, 0, 0), id="other-rule-is-not-a-match"),
        pytest.param([inc("r1", 1, 5)], [inc("r1", 7, 9)], (1, 1, 0, 0), id="no-time-overlap"),
        pytest.param(
            [inc("r1", 1, 5)], [inc("r1", 1, 5, object_class="car")], (1, 1, 0, 0), id="other-object"
        ),
        pytest.param([inc("r1", 1, 5)], [inc("r1", 3, 5)], (0, 0, 1, 0), id="starts-later"),
        pytest.param([inc("r1", 1, 5)], [inc("r1", 1, 5, severity="critical")], (0, 0, 1, 0), id="severity"),
        pytest.param([inc("r1", 1, 5, value=4.0)], [inc("r1", 1, 5, value=2.0)], (0, 0, 1, 0), id="value"),
        pytest.param(
            [inc("c", 3, 3, direction="in")], [inc("c", 3, 3, direction="out")], (1, 1, 0, 0), id="direction"
        ),
        pytest.param(
            [inc("r1", 1, 5, track_id=1), inc("r1", 1, 5, track_id=2)],
            [inc("r1", 1, 5, track_id=2)],
            (0, 1, 0, 1),
            id="same-track-preferred",
        ),
    ],
)
def test_compare(old: list[Incident], new: list[Incident], expected: tuple[int, int, int, int]) -> None:
    diff = compare(old, new)
    assert (len(diff.appeared), len(diff.disappeared), len(diff.changed), len(diff.same)) == expected
    if expected == (0, 1, 0, 1):
        assert diff.disappeared[0].track_id == 1


def _msg(state: str, t: float, **fields: Any) -> Alert:
    return make_alert(1, state=state, source_time_s=t, track_id=3, object_class="person", **fields)


def test_incidents_fold_start_update_end() -> None:
    alerts = [_msg("start", 2.0, value=0.0), _msg("update", 4.0, value=2.0), _msg("end", 6.5, value=4.0)]
    (incident,) = incidents(alerts)
    assert (incident.start_s, incident.end_s, incident.value, incident.track_id) == (2.0, 6.5, 4.0, 3)


def test_report_lines_say_what_changed() -> None:
    diff = compare(
        [inc("r1", 1, 5, value=4.0, value_unit="s"), inc("gone", 2, 2)],
        [inc("r1", 1, 3, value=2.0, value_unit="s"), inc("new", 8, 9)],
    )
    lines = diff_lines(diff)
    assert lines[0] == "appear 1, disappear 1, change 1, same 0"
    assert "~ 1.0–5.0 s r1 (intrusion) person track 1: ends 5.0 → 3.0 s; value 4 → 2 s" in lines
    assert "- 2.0–2.0 s gone (intrusion) person track 1" in lines
    assert "+ 8.0–9.0 s new (intrusion) person track 1" in lines
