"""Settings errors as one line per setting (``ioc serve``, ``ioc users``, ``ioc token``), not a
pydantic traceback."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

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
