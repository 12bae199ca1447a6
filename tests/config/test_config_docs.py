"""The README's configuration reference stays true: every field documented, every example valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from ioc.config import models as m
from ioc.config import parse_config

DOC = Path(__file__).resolve().parents[2] / "README.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = [
    b for b in re.findall(r"```yaml\n(.*?)```", TEXT, re.DOTALL) if b.startswith(("cameras:", "defaults:"))
]
MODELS: list[type[BaseModel]] = [
    m.IocConfig, m.SiteConfig, m.Location, m.RetentionConfig, m.CameraConfig, m.DetectConfig,
    m.TrackConfig, m.AlertConfig, m.Zone, m.Line, m.IntrusionRule, m.LineCrossingRule, m.LoiteringRule,
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "field"), [(model, name) for model in MODELS for name in model.model_fields], ids=str
)
def test_every_field_has_a_table_row(model: type[BaseModel], field: str) -> None:
    assert f"| `{field}` |" in TEXT


def test_docs_have_full_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES)
def test_full_examples_validate(example: str) -> None:
    assert parse_config(example, str(DOC)).cameras
