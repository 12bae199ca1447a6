"""``ioc check FILE``: validate a cameras.yaml; print OK or every error with its path and line."""

from __future__ import annotations

import argparse
from pathlib import Path

from ioc.config.errors import ConfigError
from ioc.config.loader import load_config


def check_main(path: Path) -> int:
    """Print ``OK: FILE: N cameras, M rules`` and return 0, or print every error and return 1."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line)
        count = len(exc.errors)
        print(f"FAILED: {path}: {count} error{'s' if count != 1 else ''}")
        return 1
    rules = sum(len(camera.rules) for camera in config.cameras)
    print(f"OK: {path}: {len(config.cameras)} cameras, {rules} rules")
    return 0


def check_command(args: argparse.Namespace) -> int:
    file: Path = args.file
    return check_main(file)
