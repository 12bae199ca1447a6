"""``cameras.yaml``: models, loading with YAML paths and lines in every error, ``ioc check``."""

from ioc.config.errors import ConfigError
from ioc.config.loader import load_config, parse_config

__all__ = ["ConfigError", "load_config", "parse_config"]
