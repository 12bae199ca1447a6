"""The rule family registry: every ``type:`` a rule in ``cameras.yaml`` may have.

``FAMILIES`` lists one ``RuleFamily`` per rule module; ``RuleConfig`` is the discriminated union
``CameraConfig.rules`` validates against; ``family_of(rule)`` finds a configured rule's family
and ``family_named(type)`` a hit's. Adding a rule type = one module + one line here + its tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from ioc.config.rule_base import RuleBase
from ioc.rules import (
    abandoned_object,
    crowding,
    intrusion,
    line_crossing,
    loitering,
    speeding,
    stopped_vehicle,
    wrong_way,
)
from ioc.rules.family import RuleFamily

FAMILIES: tuple[RuleFamily[Any], ...] = (
    intrusion.FAMILY,
    line_crossing.FAMILY,
    loitering.FAMILY,
    wrong_way.FAMILY,
    stopped_vehicle.FAMILY,
    speeding.FAMILY,
    crowding.CROWDING,
    crowding.CONGESTION,
    abandoned_object.FAMILY,
)
RULE_CONFIGS: tuple[type[RuleBase], ...] = tuple(f.config for f in FAMILIES)
RULE_TYPES: tuple[str, ...] = tuple(f.type for f in FAMILIES)

if TYPE_CHECKING:
    RuleConfig = RuleBase
else:
    RuleConfig = Annotated[Union[RULE_CONFIGS], Field(discriminator="type")]  # noqa: UP007

_BY_CONFIG = {f.config: f for f in FAMILIES}
_BY_TYPE = {f.type: f for f in FAMILIES}


def family_of(rule: RuleBase) -> RuleFamily[Any]:
    """The family of a configured rule (its config model's class)."""
    found = _BY_CONFIG.get(type(rule))
    if found is None:
        raise ValueError(f"rule {rule.id!r}: no rule family for {type(rule).__name__}; known: {RULE_TYPES}")
    return found


def family_named(rule_type: str) -> RuleFamily[Any] | None:
    """The family whose ``type:`` is ``rule_type`` (None for a type this build does not know)."""
    return _BY_TYPE.get(rule_type)
