"""Behaviour rules: one module per rule family (``registry.FAMILIES``); ``RuleEngine`` runs them.

``RuleEngine`` is imported lazily: ``ioc.config.models`` imports the registry to build the
``rules:`` union, and the engine imports ``ioc.config.models``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ioc.rules.engine import RuleEngine

__all__ = ["RuleEngine"]


def __getattr__(name: str) -> Any:
    if name == "RuleEngine":
        from ioc.rules.engine import RuleEngine

        return RuleEngine
    raise AttributeError(f"module 'ioc.rules' has no attribute {name!r}")
