"""``ioc check FILE``: validate a cameras.yaml (``--kpi``: a kpi.yaml); print OK or every error with
its path and line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ioc.config.errors import ConfigError
from ioc.config.loader import load_config


def check_main(path: Path) -> int:
    """Print ``OK: FILE: N cameras, M rules`` and return 0, or print every error and return 1."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        count = len(exc.errors)
        _print_lines([*exc.errors, f"FAILED: {path}: {count} error{'s' if count != 1 else ''}"])
        return 1
    rules = sum(len(camera.rules) for camera in config.cameras)
    _print_lines([f"OK: {path}: {len(config.cameras)} cameras, {rules} rules"])
    return 0


def check_kpi_main(path: Path) -> int:
    """Print ``OK: FILE: N KPI sources`` and return 0, or print every error and return 1."""
    from ioc.config.kpi_loader import load_kpi_config

    try:
        config = load_kpi_config(path)
    except ConfigError as exc:
        count = len(exc.errors)
        _print_lines([*exc.errors, f"FAILED: {path}: {count} error{'s' if count != 1 else ''}"])
        return 1
    _print_lines(
        [f"OK: {path}: {len(config.sources)} KPI sources" + (", demo feed on" if config.demo else "")]
    )
    return 0


def check_command(args: argparse.Namespace) -> int:
    file: Path = args.file
    return check_kpi_main(file) if getattr(args, "kpi", False) else check_main(file)


def _print_lines(lines: Sequence[str]) -> None:
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:  # `ioc check f | head -1`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
