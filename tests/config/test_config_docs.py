"""The README's configuration reference stays true: every field documented, every example valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from ioc.config import models as m
from ioc.config import parse_config
from ioc.config.rule_base import Schedule
from ioc.rules.registry import RULE_CONFIGS, RULE_TYPES

DOC = Path(__file__).resolve().parents[2] / "README.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = [
    b for b in re.findall(r"```yaml\n(.*?)```", TEXT, re.DOTALL) if b.startswith(("cameras:", "defaults:"))
]
MODELS: list[type[BaseModel]] = [
    m.IocConfig, m.SiteConfig, m.Location, m.RetentionConfig, m.CameraConfig, m.DetectConfig,
    m.TrackConfig, m.AlertConfig, m.Zone, m.Line, m.Calibration, Schedule, *RULE_CONFIGS,
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "field"),
    [(model, info.alias or name) for model in MODELS for name, info in model.model_fields.items()],
    ids=str,
)
def test_every_field_has_a_table_row(model: type[BaseModel], field: str) -> None:
    assert f"| `{field}` |" in TEXT


@pytest.mark.parametrize("rule_type", RULE_TYPES)
def test_every_rule_type_has_a_section_and_example(rule_type: str) -> None:
    assert f"##### `type: {rule_type}`" in TEXT
    assert f"`{rule_type}`" in TEXT.split("| `type` |")[1].split("\n")[0]
    assert re.search(rf"type: {rule_type}\b", "".join(EXAMPLES))


def test_docs_have_full_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES)
def test_full_examples_validate(example: str) -> None:
    assert parse_config(example, str(DOC)).cameras
