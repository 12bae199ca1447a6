"""Settings errors as one line per setting (``ioc serve``, ``ioc users``, ``ioc token``), not a
pydantic traceback; config file errors printed the same way by every command that starts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ioc.config.errors import ConfigError
from ioc.redact import redact_text
from ioc.settings import Settings, load_settings

FLAGS = {
    "config_path": "--config",
    "host": "--host",
    "port": "--port",
    "data_dir": "--data-dir",
    "tls_cert": "--tls-cert",
    "tls_key": "--tls-key",
}
"""Settings the commands also take as options."""


class SettingsError(Exception):
    """Settings that do not validate; ``lines`` name each setting, its variable and the problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def settings_error_lines(exc: ValidationError) -> list[str]:
    """One line per bad setting: ``setting port (IOC_PORT or --port): Input should be ..., got 99999``."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        flag = FLAGS.get(name)
        source = f"IOC_{name.upper()}" + (f" or {flag}" if flag else "")
        got = error.get("input")
        shown = f", got {got!r}" if isinstance(got, str | int | float) else ""
        lines.append(f"setting {name} ({source}): {error['msg']}{shown}")
    return lines


def checked_settings(**overrides: Any) -> Settings:
    """``load_settings``, raising :class:`SettingsError` instead of pydantic's traceback."""
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(settings_error_lines(exc)) from None


def print_config_errors(command: str, what: str, path: Path | str | None, exc: ConfigError) -> None:
    """``ioc <command>: invalid <what> <path>:`` then each error on its own line, with credentials in
    camera URLs redacted (an error line may quote the source it refused)."""
    print(f"ioc {command}: invalid {what} {path}:", file=sys.stderr)
    for line in exc.errors:
        print(f"  {redact_text(line)}", file=sys.stderr)
