"""The registry is the one place a rule type is declared: config, engine, texts and wall agree with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ioc.config.models import CameraConfig
from ioc.events.text import describe
from ioc.messages import AlertState
from ioc.rules import RuleEngine
from ioc.rules.family import RuleFamily
from ioc.rules.registry import FAMILIES, RULE_TYPES, family_named
from tests.factories import make_camera, make_hit

I18N = (Path(__file__).resolve().parents[2] / "dashboard" / "js" / "i18n.js").read_text(encoding="utf-8")
VI, EN = I18N.split("\n  en: {", 1)

MINIMAL: dict[str, dict[str, Any]] = {
    "intrusion": {"zone": "z"},
    "line_crossing": {"line": "l"},
    "loitering": {"zone": "z", "min_dwell_seconds": 5},
    "wrong_way": {"direction": [[0.5, 0.1], [0.5, 0.9]]},
    "stopped_vehicle": {"min_stopped_seconds": 10, "classes": ["car"]},
    "speeding": {"max_kmh": 50},
    "crowding": {"min_count": 5},
    "congestion": {"min_count": 8},
    "abandoned_object": {"min_seconds": 30, "classes": ["backpack"]},
}
SQUARE = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]


def camera_with(rule_type: str) -> CameraConfig:
    return make_camera(
        zones=[{"id": "z", "polygon": SQUARE}],
        lines=[{"id": "l", "points": [[0.0, 0.5], [1.0, 0.5]]}],
        rules=[{"id": "r", "type": rule_type, **MINIMAL[rule_type]}],
        detect={"classes": ["person", "car", "backpack"]},
        calibration={"image_points": SQUARE, "world_points": [[0, 0], [10, 0], [10, 10], [0, 10]]},
    )


def test_every_family_has_a_minimal_config_here() -> None:
    assert sorted(MINIMAL) == sorted(RULE_TYPES)
    assert len(set(RULE_TYPES)) == len(RULE_TYPES)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.type)
def test_family_is_built_by_the_engine(family: RuleFamily[Any]) -> None:
    camera = camera_with(family.type)
    assert isinstance(camera.rules[0], family.config)
    (rule,) = RuleEngine(camera).rules
    assert rule.rule_id == "r"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.type)
def test_wall_label_in_both_languages_matches_the_registry(family: RuleFamily[Any]) -> None:
    assert f'"rule.{family.type}": "{family.label.vi}",' in VI
    assert f'"rule.{family.type}": "{family.label.en}",' in EN


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.type)
def test_alert_text_comes_from_the_family(family: RuleFamily[Any]) -> None:
    hit = make_hit(3.0, rule_id="r", rule_type=family.type, value=12.0, value_unit=family.unit, zone_id="z")
    text = describe(camera_with(family.type), hit, AlertState.START)
    assert "cam-1" in text.vi and "cam-1" in text.en
    assert not text.en.startswith("Alert r:")  # the generic fallback
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text.vi)


def test_unknown_type_gets_a_generic_text() -> None:
    assert family_named("tailgating") is None
    hit = make_hit(1.0, rule_id="r", rule_type="tailgating")
    assert describe(camera_with("intrusion"), hit, AlertState.START).en == "Alert r: person (cam-1)"
