"""``ioc worker`` refuses bad input with one clear line (exit 2), before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ioc.cli import main

BAD_CONFIG = "cameras:\n  - id: gate\n    source: rtsp://cam/1\n    worker: ''\n"
SECRET_IN_ERROR = "cameras:\n  - id: gate\n    source: ftp://admin:hunter2@10.0.0.1/x\n"


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        ({}, None, "ioc worker: IOC_REDIS_URL is not set"),
        ({"IOC_REDIS_URL": "redis://127.0.0.1:1/0", "IOC_LEASE_SECONDS": "0.1"}, None, "lease_seconds"),
        ({"IOC_REDIS_URL": "redis://127.0.0.1:1/0"}, BAD_CONFIG, "cameras[0].worker"),
        ({"IOC_REDIS_URL": "redis://127.0.0.1:1/0"}, "missing", "file not found"),
        ({"IOC_REDIS_URL": "redis://127.0.0.1:1/0"}, SECRET_IN_ERROR, "ftp://admin:***@10.0.0.1/x"),
    ],
    ids=["no-redis-url", "lease-too-short", "empty-worker-pin", "no-config", "password-redacted"],
)
def test_bad_input_is_one_clear_error(
    env: dict[str, str],
    config: str | None,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key in ("IOC_REDIS_URL", "IOC_LEASE_SECONDS", "IOC_CONFIG_PATH"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "cameras.yaml"
    if config not in (None, "missing"):
        path.write_text(config, encoding="utf-8")
    args = ["worker", "--config", str(path), "--data-dir", str(tmp_path), "--port", str(_free_port())]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err and "hunter2" not in err


def test_a_health_port_in_use_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", "redis://127.0.0.1:1/0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["worker", "--data-dir", str(tmp_path), "--port", str(port)]) == 2
    assert f"ioc worker: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
