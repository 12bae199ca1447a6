from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ioc.events import AlertLifecycle, SnapshotWriter
from ioc.messages import Alert, AlertState, Category, Severity
from ioc.rules import RuleEngine
from ioc.types import Detections, HitKind, RuleHit
from tests.factories import make_camera, make_detections, make_frame, make_hit

ZONE = {"id": "restricted", "polygon": [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]]}
LINE = {"id": "l1", "points": [[0.1, 0.5], [0.9, 0.5]]}
RULES = [
    {"type": "intrusion", "id": "no-entry", "zone": "restricted", "severity": "critical"},
    {"type": "loitering", "id": "loiter", "zone": "restricted", "min_dwell_seconds": 1.0},
    {"type": "line_crossing", "id": "count", "line": "l1"},
]
T0 = 1_767_225_600.0  # make_frame's wall time at stream time 0


def lifecycle(snapshots: SnapshotWriter | None = None, **alerts: float) -> AlertLifecycle:
    config = {"update_interval_seconds": 5.0, "end_after_seconds": 2.0, "cooldown_seconds": 30.0, **alerts}
    camera = make_camera(id="gate-1", zones=[ZONE], lines=[LINE], rules=RULES, alerts=config)
    return AlertLifecycle(camera, snapshots)


def ticks(start: float, stop: float, step: float = 0.5) -> list[float]:
    return [start + i * step for i in range(round((stop - start) / step) + 1)]


def drive(lc: AlertLifecycle, frames: Iterable[float], hit_at: set[float], **hit: object) -> list[Alert]:
    """Step through frames at ``frames``; a state hit (value = t) on each time in ``hit_at``."""
    out: list[Alert] = []
    for t in frames:
        hits = [make_hit(t, value=t, value_unit="s", **hit)] if t in hit_at else []  # type: ignore[arg-type]
        out.extend(lc.step(hits, make_frame(t, camera_id="gate-1"), Detections.empty()))
    return out


def states(alerts: list[Alert]) -> list[tuple[float, str]]:
    return [(a.updated_at.timestamp() - T0, a.state.value) for a in alerts]


@pytest.mark.parametrize(
    ("alerts", "frames", "hit_at", "expected"),
    [
        pytest.param(
            {},
            ticks(0, 14),
            set(ticks(0, 10)),
            [(0, "start"), (5, "update"), (10, "update"), (12, "end")],
            id="start-update-end",
        ),
        pytest.param(
            {"update_interval_seconds": 2.0, "end_after_seconds": 1.0},
            ticks(0, 6),
            set(ticks(0, 4.5)),
            [(0, "start"), (2, "update"), (4, "update"), (5.5, "end")],
            id="faster-updates-shorter-end",
        ),
        pytest.param(
            {},
            ticks(0, 10),
            set(ticks(0, 3)) | set(ticks(4.5, 6)),
            [(0, "start"), (5, "update"), (8, "end")],
            id="vanished-and-returned-continues",
        ),
        pytest.param(
            {},
            ticks(0, 10),
            set(ticks(0, 3)) | set(ticks(5, 6)),
            [(0, "start"), (5, "end")],
            id="gap-of-end-after-ends-then-cooldown",
        ),
        pytest.param(
            {"cooldown_seconds": 4.0},
            ticks(0, 12),
            set(ticks(0, 1)) | set(ticks(4, 5)) | set(ticks(7, 8)),
            [(0, "start"), (3, "end"), (7, "start"), (10, "end")],
            id="cooldown-expiry-restarts",
        ),
        pytest.param(
            {"cooldown_seconds": 10.0},
            ticks(0, 40),
            set(ticks(2, 6)) | set(ticks(26, 30)),
            [(2, "start"), (8, "end"), (26, "start"), (32, "end")],
            id="re-entry-after-20s-is-a-new-alert-under-the-default-cooldown",
        ),
        pytest.param(
            {"cooldown_seconds": 10.0},
            ticks(0, 20),
            set(ticks(0, 3)) | set(ticks(4, 5)) | set(ticks(6.5, 9)),
            [(0, "start"), (5, "update"), (11, "end")],
            id="quick-in-out-jitter-is-one-alert",
        ),
        pytest.param(
            {"cooldown_seconds": 10.0},
            ticks(0, 20),
            set(ticks(0, 2)) | set(ticks(5, 16)),
            [(0, "start"), (4, "end"), (14, "start"), (18, "end")],
            id="flapping-back-within-the-cooldown-waits-for-it-not-silenced",
        ),
        pytest.param(
            {"end_after_seconds": 2.0},
            [0.0, 0.5, 1.0, 4.0, 4.5],
            {0.0, 0.5, 1.0},
            [(0, "start"), (4, "end")],
            id="end-checked-on-frames-without-hits",
        ),
    ],
)
def test_state_lifecycle(
    alerts: dict[str, float], frames: list[float], hit_at: set[float], expected: list[tuple[float, str]]
) -> None:
    out = drive(lifecycle(**alerts), frames, hit_at)
    assert states(out) == expected
    current = None
    for alert in out:  # update/end share the id of the start before them; each start is new
        if alert.state is AlertState.START:
            assert alert.id != current
            current = alert.id
        assert alert.id == current


def test_one_id_per_alert_and_deterministic() -> None:
    runs = [drive(lifecycle(), ticks(0, 14), set(ticks(0, 10))) for _ in range(2)]
    assert [a.model_dump() for a in runs[0]] == [a.model_dump() for a in runs[1]]
    assert {a.id for a in runs[0]} == {"gate-1-no-entry-7-1767225600000"}


def test_start_fields() -> None:
    (alert,) = drive(lifecycle(), [1.25], {1.25})
    assert alert.id == "gate-1-no-entry-7-1767225601250"
    assert (alert.state, alert.severity, alert.category) == (
        AlertState.START,
        Severity.CRITICAL,
        Category.SECURITY,
    )
    assert alert.started_at == alert.updated_at == datetime(2026, 1, 1, 0, 0, 1, 250000, tzinfo=UTC)
    assert alert.ended_at is None
    assert (alert.camera_id, alert.rule_id, alert.rule_type) == ("gate-1", "no-entry", "intrusion")
    assert (alert.track_id, alert.object_class, alert.zone_id) == (7, "person", "restricted")
    assert (alert.value, alert.value_unit, alert.snapshot_url) == (1.25, "s", None)
    assert alert.message.vi == "Xâm nhập khu vực cấm: người tại restricted (gate-1)"
    assert alert.message.en == "Intrusion into restricted: person (gate-1)"


def test_end_carries_last_hit_time_and_values() -> None:
    out = drive(lifecycle(), ticks(0, 6), set(ticks(0, 3)))
    end = out[-1]
    assert end.state is AlertState.END
    assert end.ended_at == datetime.fromtimestamp(T0 + 3.0, tz=UTC)
    assert end.updated_at == datetime.fromtimestamp(T0 + 5.0, tz=UTC)
    assert end.started_at == out[0].started_at
    assert end.value == 3.0
    assert end.message.en.startswith("Ended — Intrusion")


def test_update_only_when_value_changes() -> None:
    lc = lifecycle(update_interval_seconds=1.0)
    out: list[Alert] = []
    for t in ticks(0, 4):
        out += lc.step([make_hit(t, value=2.0)], make_frame(t), Detections.empty())
    assert [a.state for a in out] == [AlertState.START]


def test_flush_ends_every_open_alert() -> None:
    lc = lifecycle()
    lc.step([make_hit(0.0, track_id=1), make_hit(0.0, track_id=2)], make_frame(0.0), Detections.empty())
    out = lc.flush(make_frame(0.5))
    assert [(a.state, a.track_id) for a in out] == [(AlertState.END, 1), (AlertState.END, 2)]
    assert lc.open_count == 0
    assert lc.flush(make_frame(0.6)) == []


def test_time_going_back_ends_open_alerts() -> None:
    lc = lifecycle()
    drive(lc, ticks(0, 3), set(ticks(0, 3)))
    out = drive(lc, [0.0], {0.0})
    assert [a.state for a in out] == [AlertState.END, AlertState.START]


def crossing(t: float, direction: str, track_id: int = 7) -> RuleHit:
    return make_hit(
        t,
        rule_id="count",
        rule_type="line_crossing",
        kind=HitKind.EVENT,
        direction=direction,
        track_id=track_id,
        value=1.0,
        value_unit="count",
    )


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        pytest.param([crossing(0, "in"), crossing(1, "out")], [(0, "in"), (1, "out")], id="both-directions"),
        pytest.param([crossing(0, "in"), crossing(2, "in")], [(0, "in")], id="same-direction-in-cooldown"),
        pytest.param([crossing(0, "in"), crossing(30, "in")], [(0, "in"), (30, "in")], id="after-cooldown"),
        pytest.param([crossing(0, "in", 1), crossing(1, "in", 2)], [(0, "in"), (1, "in")], id="other-track"),
    ],
)
def test_event_alerts(hits: list[RuleHit], expected: list[tuple[float, str]]) -> None:
    lc = lifecycle()
    out = [a for h in hits for a in lc.step([h], make_frame(h.timestamp), Detections.empty())]
    assert [(a.started_at.timestamp() - T0, a.direction) for a in out] == expected
    assert all(a.state is AlertState.START and a.ended_at == a.started_at for a in out)
    assert all(a.severity is Severity.INFO and a.line_id == "l1" for a in out)
    assert lc.open_count == 0


@pytest.mark.parametrize(
    ("hit", "vi", "en"),
    [
        pytest.param(
            make_hit(0, rule_id="loiter", rule_type="loitering", value=75.4, object_class="car"),
            "Lảng vảng quá lâu (75 giây): ô tô tại restricted (gate-1)",
            "Loitering (75 s): car in restricted (gate-1)",
            id="loitering",
        ),
        pytest.param(
            crossing(0, "in"),
            "Vượt vạch l1 theo chiều vào: người (gate-1)",
            "Crossed line l1 inbound: person (gate-1)",
            id="line-in",
        ),
        pytest.param(
            crossing(0, "out"),
            "Vượt vạch l1 theo chiều ra: người (gate-1)",
            "Crossed line l1 outbound: person (gate-1)",
            id="line-out",
        ),
    ],
)
def test_messages(hit: RuleHit, vi: str, en: str) -> None:
    (alert,) = lifecycle().step([hit], make_frame(0.0), Detections.empty())
    assert (alert.message.vi, alert.message.en) == (vi, en)


def test_alerts_are_counted_in_metrics() -> None:
    def count(state: str) -> float:
        labels = {"camera": "gate-1", "rule": "no-entry", "state": state}
        return REGISTRY.get_sample_value("ioc_alerts_total", labels) or 0.0

    before = {s: count(s) for s in ("start", "update", "end")}
    drive(lifecycle(), ticks(0, 14), set(ticks(0, 10)))
    assert {s: count(s) - before[s] for s in before} == {"start": 1.0, "update": 2.0, "end": 1.0}


def test_unknown_rule_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown rule 'ghost'"):
        lifecycle().step([make_hit(0.0, rule_id="ghost")], make_frame(0.0), Detections.empty())


def test_snapshot_on_start_carried_to_update_and_end(tmp_path: Path) -> None:
    out = drive(lifecycle(SnapshotWriter(tmp_path)), ticks(0, 8), set(ticks(0, 5)))
    url = "/snapshots/gate-1/2026-01-01/gate-1-no-entry-7-1767225600000-start.jpg"
    assert [(a.state.value, a.snapshot_url) for a in out] == [("start", url), ("update", url), ("end", url)]
    assert (tmp_path / url.removeprefix("/snapshots/")).is_file()


def test_rules_and_lifecycle_lost_then_found_track_is_one_alert() -> None:
    camera = make_camera(
        id="gate-1",
        zones=[ZONE],
        rules=[RULES[1]],
        track={"lost_track_seconds": 1.5},
        alerts={"end_after_seconds": 2.0, "update_interval_seconds": 60.0},
    )
    engine, lc = RuleEngine(camera), AlertLifecycle(camera, None)
    out: list[Alert] = []
    for t in ticks(0, 12, 0.25):
        visible = not (3.0 < t < 4.25)  # lost for 1.25 s, then found with the same id
        dets = (
            make_detections(anchors=[(0.4, 0.5)], tracker_id=[3])
            if visible and t <= 8
            else Detections.empty()
        )
        frame = make_frame(t, camera_id="gate-1")
        out += lc.step(engine.evaluate(dets, t), frame, dets)
    assert states(out) == [(1.0, "start"), (10.0, "end")]
    assert out[-1].value == 8.0


def test_message_uses_zone_display_name() -> None:
    zone = {**ZONE, "name": "Cổng chính"}
    camera = make_camera(id="gate-1", zones=[zone], rules=[RULES[0]])
    (alert,) = AlertLifecycle(camera, None).step([make_hit(0.0)], make_frame(0.0), Detections.empty())
    assert alert.message.vi == "Xâm nhập khu vực cấm: người tại Cổng chính (gate-1)"


def test_zone_hit_alert_has_no_track_and_a_zone_id(tmp_path: Path) -> None:
    crowd = {"type": "crowding", "id": "crowd", "zone": "restricted", "min_count": 2}
    camera = make_camera(id="gate-1", zones=[ZONE], rules=[crowd])
    writer = SnapshotWriter(tmp_path, UTC)
    lc = AlertLifecycle(camera, writer)
    dets = make_detections(anchors=[(0.3, 0.5), (0.4, 0.5)])
    hits = RuleEngine(camera).evaluate(dets, 0.0)
    (alert,) = lc.step(hits, make_frame(0.0, camera_id="gate-1"), dets)
    assert alert.id == "gate-1-crowd-zone-1767225600000"
    assert (alert.track_id, alert.value, alert.value_unit) == (None, 2.0, "count")
    assert alert.zone_id == "restricted"
    assert alert.message.en == "Crowd forming (2 × person) in restricted (gate-1)"
    assert alert.snapshot_url is not None
