"""Behaviour rules: one module per rule family; ``engine.RuleEngine`` builds them from config."""

from ioc.rules.engine import RuleEngine

__all__ = ["RuleEngine"]
