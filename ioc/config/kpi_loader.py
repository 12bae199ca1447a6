"""Load ``kpi.yaml`` into a validated ``KpiConfig``; every error names its YAML path and line.

The file is optional: without it ioc runs no KPI source (``ioc serve`` logs that). Top-level
keys are the fields of :class:`ioc.config.kpi_models.KpiConfig`; ``x-`` keys may hold anchors.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ioc.config.errors import ConfigError, duplicate_id_errors, unique, validation_errors
from ioc.config.kpi_models import KpiConfig
from ioc.config.loader import EXTENSION_PREFIX, _parse_yaml, _read_text
from ioc.config.yaml_tree import Node, describe, to_plain

__all__ = ["ConfigError", "load_kpi_config", "parse_kpi_config"]


def load_kpi_config(path: Path) -> KpiConfig:
    """Read and validate ``kpi.yaml``. Raises ``ConfigError`` listing every problem."""
    return parse_kpi_config(_read_text(path), str(path))


def parse_kpi_config(text: str, filename: str) -> KpiConfig:
    root = _parse_yaml(text, filename, None)
    if root.value is None:
        return KpiConfig()
    if not root.is_mapping:
        got = describe(root.value)
        raise ConfigError([f"{filename}: expected a mapping of KPI settings at the top level, got {got}"])
    kept = Node({k: v for k, v in root.items() if not k.startswith(EXTENSION_PREFIX)}, root.origin)
    errors: list[str] = []
    sources = kept.child("sources")
    if sources is not None:
        errors.extend(duplicate_id_errors(sources))
    try:
        config = KpiConfig.model_validate(to_plain(kept))
    except ValidationError as exc:
        raise ConfigError(unique([*validation_errors(exc, kept, KpiConfig), *errors])) from None
    if errors:
        raise ConfigError(unique(errors))
    return config
