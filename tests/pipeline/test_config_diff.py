"""The hot-reload plan: which cameras are added, removed, reconnected, and which rules keep state."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.config.models import IocConfig
from ioc.pipeline.config_diff import Change, diff_configs

ZONES = [
    {"id": "z1", "polygon": [[0, 0], [0.5, 0], [0.5, 1]]},
    {"id": "z2", "polygon": [[0.5, 0], [1, 0], [1, 1]]},
]
LINES = [{"id": "l1", "points": [[0, 0.5], [1, 0.5]]}]
RULES = [
    {"id": "r1", "type": "intrusion", "zone": "z1"},
    {"id": "r2", "type": "loitering", "zone": "z2", "min_dwell_seconds": 5},
    {"id": "r3", "type": "line_crossing", "line": "l1"},
]


def camera(camera_id: str = "a", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": camera_id, "source": f"{camera_id}.mp4", "zones": ZONES, "lines": LINES}
    data["rules"] = RULES
    data.update(fields)
    return data


def config(*cameras: dict[str, Any], **fields: Any) -> IocConfig:
    return IocConfig.model_validate({"cameras": list(cameras), **fields})


def moved_zone(zone_id: str) -> list[dict[str, Any]]:
    return [z if z["id"] != zone_id else {**z, "polygon": [[0, 0], [0.4, 0], [0.4, 1]]} for z in ZONES]


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            camera(), ("unchanged", False, False, {"r1", "r2", "r3"}, "camera a: unchanged"), id="same"
        ),
        pytest.param(
            camera(source="rtsp://x/1"),
            ("changed", True, False, {"r1", "r2", "r3"}, "camera a: source changed (reconnect)"),
            id="source",
        ),
        pytest.param(
            camera(rules=[RULES[0], {**RULES[1], "min_dwell_seconds": 9}, RULES[2]]),
            ("changed", False, False, {"r1", "r3"}, "camera a: rules changed: r2"),
            id="one-rule-changed",
        ),
        pytest.param(
            camera(zones=[ZONES[0], moved_zone("z2")[1]]),
            ("changed", False, False, {"r1", "r3"}, "camera a: rules changed: r2; settings changed: zones"),
            id="its-zone-moved",
        ),
        pytest.param(
            camera(rules=RULES[:2]),
            ("changed", False, False, {"r1", "r2"}, "camera a: rules removed: r3"),
            id="rule-removed",
        ),
        pytest.param(
            camera(rules=[*RULES, {"id": "r4", "type": "intrusion", "zone": "z2"}]),
            ("changed", False, False, {"r1", "r2", "r3"}, "camera a: rules added: r4"),
            id="rule-added",
        ),
        pytest.param(
            camera(alerts={"cooldown_seconds": 5}),
            ("changed", False, False, set(), "camera a: rules changed: r1, r2, r3; settings changed: alerts"),
            id="camera-alert-settings-reach-every-rule",
        ),
        pytest.param(
            camera(detect={"model": "yolov8n"}),
            (
                "changed",
                False,
                True,
                {"r1", "r2", "r3"},
                "camera a: detector changed; settings changed: detect",
            ),
            id="model",
        ),
        pytest.param(
            camera(name="Gate"),
            ("changed", False, False, {"r1", "r2", "r3"}, "camera a: settings changed: name"),
            id="name-only",
        ),
    ],
)
def test_camera_changes(new: dict[str, Any], expected: tuple[str, bool, bool, set[str], str]) -> None:
    (diff,) = diff_configs(config(camera()), config(new)).cameras
    change, reconnect, detector, kept, text = expected
    assert (diff.change.value, diff.reconnect, diff.detector, set(diff.rules_kept)) == (
        change,
        reconnect,
        detector,
        kept,
    )
    assert diff.describe() == text


def test_cameras_added_removed_disabled_and_other_sections() -> None:
    old = config(camera("a"), camera("b"), camera("c", enabled=False))
    new = config(camera("a", enabled=False), camera("c"), camera("d"), site={"name": "Hue"})
    diff = diff_configs(old, new)
    assert [(c.camera_id, c.change) for c in diff.cameras] == [
        ("a", Change.REMOVED),
        ("b", Change.REMOVED),
        ("c", Change.ADDED),
        ("d", Change.ADDED),
    ]
    assert diff.summary() == [
        "camera a: removed",
        "camera b: removed",
        "camera c: added",
        "camera d: added",
        "site changed",
    ]
    assert diff_configs(old, old).summary() == ["no change"]
    assert diff_configs(old, old).empty
