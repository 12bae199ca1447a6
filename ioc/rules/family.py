"""What one rule family contributes to the registry: config model, rule class, texts, wall label.

A family module under ``ioc/rules/`` defines its config model (a ``RuleBase`` subclass with a
``type: Literal[...]``), its rule class (``Rule`` protocol), a text function and a ``FAMILY``
value of ``RuleFamily``; ``registry.FAMILIES`` lists every family. Nothing else needs editing:
``cameras.yaml`` accepts the new ``type:``, the engine builds it, alert messages use its texts,
and a test holds the wall's ``dashboard/js/i18n.js`` label equal to ``label``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ioc.config.rule_base import RuleBase
from ioc.messages import LocalizedText
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig
    from ioc.rules.base import Rule

C = TypeVar("C", bound=RuleBase)


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert text talks about, already translated where needed."""

    object_en: str
    object_vi: str
    place: str
    camera_id: str


@dataclass(frozen=True, slots=True)
class RuleFamily(Generic[C]):
    """One ``type:`` of rule. ``unit``: the unit of its hits' ``value`` (None: no value)."""

    type: str
    config: builtins.type[C]
    build: Callable[[CameraConfig, C], Rule]
    text: Callable[[RuleHit, Subject], LocalizedText]
    label: LocalizedText
    unit: str | None


def seconds(hit: RuleHit) -> int:
    """The hit's value as whole seconds (0 when it has none), for texts."""
    return int(hit.value or 0.0)
