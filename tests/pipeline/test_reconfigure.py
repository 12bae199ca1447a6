"""``CameraWorker.reconfigure``: between two frames, unchanged rules keep their state and open
alerts, changed and removed rules end theirs, flows of unchanged lines keep counting."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.messages import Alert, AlertState, FlowCount
from ioc.pipeline.worker import CameraWorker
from tests.factories import make_camera, make_detections, make_frame

YARD = {"id": "yard", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}
GATE = {"id": "gate", "points": [[0.6, 0.0], [0.6, 1.0]]}
ENTER = {"id": "enter", "type": "intrusion", "zone": "yard"}
LINGER = {"id": "linger", "type": "loitering", "zone": "yard", "min_dwell_seconds": 0.5}
COUNT = {"id": "count", "type": "line_crossing", "line": "gate"}


def camera(*rules: dict[str, Any], **fields: Any) -> Any:
    return make_camera(
        zones=[YARD], lines=[GATE], rules=list(rules), detect={"classes": ["person"]}, **fields
    )


class Run:
    def __init__(self, *rules: dict[str, Any]) -> None:
        self.published: list[Alert | FlowCount] = []
        self.worker = CameraWorker.build(
            camera(*rules), publish=self.published.append, snapshots=None, frame_rate=5
        )
        self.i = 0

    def walk(self, xs: list[float]) -> None:
        for x in xs:
            dets = make_detections(anchors=[(x, 0.8)], size=(0.08, 0.3), tracker_id=-1)
            self.worker.process(make_frame(self.i * 0.2, index=self.i), dets)
            self.i += 1

    def alerts(self, rule_id: str) -> list[AlertState]:
        return [m.state for m in self.published if isinstance(m, Alert) and m.rule_id == rule_id]

    def flows(self) -> list[FlowCount]:
        return [m for m in self.published if isinstance(m, FlowCount)]


@pytest.mark.parametrize(
    ("new_rules", "enter_states", "linger_states"),
    [
        pytest.param((ENTER, LINGER), [AlertState.START], [AlertState.START], id="unchanged-both-stay-open"),
        pytest.param(
            (ENTER, {**LINGER, "min_dwell_seconds": 0.8}),
            [AlertState.START],
            [AlertState.START, AlertState.END, AlertState.START],
            id="changed-rule-ends-and-starts-again",
        ),
        pytest.param(
            (ENTER,), [AlertState.START], [AlertState.START, AlertState.END], id="removed-rule-ends"
        ),
    ],
)
def test_open_alerts_across_a_rule_change(
    new_rules: tuple[dict[str, Any], ...], enter_states: list[AlertState], linger_states: list[AlertState]
) -> None:
    run = Run(ENTER, LINGER)
    run.walk([0.7] * 6)  # inside the yard for 1 s: both alerts open
    assert (run.alerts("enter"), run.alerts("linger")) == ([AlertState.START], [AlertState.START])
    run.worker.reconfigure(camera(*new_rules))
    run.walk([0.7] * 6)
    assert run.alerts("enter") == enter_states
    assert run.alerts("linger") == linger_states
    assert [r.id for r in run.worker.camera.rules] == [r["id"] for r in new_rules]


def test_the_change_waits_for_the_owner_thread() -> None:
    run = Run(ENTER)
    run.walk([0.7])
    run.worker.reconfigure(camera(ENTER, LINGER))
    assert len(run.worker.camera.rules) == 1  # applied before the next frame, by the thread that owns it
    run.walk([0.7])
    assert len(run.worker.camera.rules) == 2


@pytest.mark.parametrize(
    ("new_count", "flows_at_change"),
    [
        pytest.param(COUNT, 0, id="unchanged-line-keeps-its-interval"),
        pytest.param({**COUNT, "interval_seconds": 30}, 1, id="changed-rule-reports-its-partial-interval"),
    ],
)
def test_flows_across_a_rule_change(new_count: dict[str, Any], flows_at_change: int) -> None:
    run = Run(COUNT)
    run.walk([0.4, 0.43, 0.46, 0.49, 0.52, 0.55, 0.58, 0.61, 0.64, 0.67, 0.7])  # crosses the gate line once
    run.worker.reconfigure(camera(new_count))
    run.walk([0.7])
    assert len(run.flows()) == flows_at_change
    run.worker.flush()
    assert sum(f.total for f in run.flows()) == 1
