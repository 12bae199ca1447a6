"""`ioc users …`, `ioc token` and `ioc serve` as users run them."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ioc.api.app import create_app
from ioc.bus.memory import MemoryBus
from ioc.cli import main
from ioc.settings import load_settings
from ioc.store.sqlite import SqliteStore
from tests.api.conftest import TestClient


def ioc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_add_then_token_authenticates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    assert (
        ioc(capsys, "users", "add", "lan", "--role", "traffic", "--password", "lan-pass-1", "--data-dir", d)[
            0
        ]
        == 0
    )
    code, out, _ = ioc(capsys, "users", "list", "--data-dir", d)
    assert code == 0 and re.search(r"^lan\ttraffic\t\d{4}-", out, re.M)
    code, token, _ = ioc(capsys, "token", "lan", "--minutes", "5", "--data-dir", d)
    assert code == 0
    assert stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode) == 0o600

    settings = load_settings(data_dir=tmp_path)
    store = SqliteStore(tmp_path / "ioc.db")
    bus = MemoryBus(store)
    with TestClient(create_app(settings, bus=bus, store=store)) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token.strip()}"})
        assert me.json() == {"username": "lan", "role": "traffic"}
        login = client.post("/api/auth/login", json={"username": "lan", "password": "lan-pass-1"})
        assert login.status_code == 200
    bus.close()
    store.close()


def test_generated_password_passwd_and_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    code, out, _ = ioc(capsys, "users", "add", "bao", "--data-dir", d)  # stdin is not a terminal
    assert code == 0 and re.search(r"^password: \S{12,}$", out, re.M)
    old_hash = SqliteStore(tmp_path / "ioc.db").get_user("bao")
    code, out, _ = ioc(capsys, "users", "passwd", "bao", "--password", "new-pass-99", "--data-dir", d)
    assert code == 0 and "password:" not in out
    new_hash = SqliteStore(tmp_path / "ioc.db").get_user("bao")
    assert old_hash is not None and new_hash is not None and old_hash.password_hash != new_hash.password_hash
    assert ioc(capsys, "users", "remove", "bao", "--data-dir", d)[0] == 0
    assert ioc(capsys, "users", "list", "--data-dir", d)[1] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "remove", "ghost"], "unknown user 'ghost'"),
        (["users", "passwd", "ghost", "--password", "long-enough"], "unknown user 'ghost'"),
        (["users", "add"], "a username is required"),
        (["users", "add", "x", "--password", "short"], "at least 8 characters"),
        (["users", "add", "bad name!", "--password", "long-enough"], "username"),
        (["token", "ghost"], "unknown user 'ghost'"),
        (["token", "ghost", "--minutes", "0"], "--minutes must be between 1 and 5270400 (10 years), got 0"),
    ],
)
def test_cli_errors_are_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert (
        ioc(capsys, "users", "add", "keeper", "--password", "keeper-pass", "--data-dir", str(tmp_path))[0]
        == 0
    )
    code, _, err = ioc(capsys, *argv, "--data-dir", str(tmp_path))
    assert code == 1
    assert message in err and "Traceback" not in err


def test_adding_a_user_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("users", "add", "lan", "--password", "lan-pass-1", "--data-dir", str(tmp_path))
    assert ioc(capsys, *args)[0] == 0
    code, _, err = ioc(capsys, *args)
    assert code == 1 and "already exists" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve_cmd(tmp_path: Path) -> Iterator[list[str]]:
    port = _free_port()
    yield [
        sys.executable,
        "-m",
        "ioc.cli",
        "serve",
        "--no-engine",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--config",
        str(tmp_path / "absent.yaml"),
    ]


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], list[str], str]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "ioc: serving" in line:
            break
    url = next((ln.split("serving ", 1)[1] for ln in lines if "ioc: serving" in ln), "")
    return proc, lines, url


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_first_start_credential_and_clean_shutdown(
    serve_cmd: list[str], tmp_path: Path, sig: int
) -> None:
    proc, lines, url = _start(serve_cmd)
    try:
        assert url.startswith("http://127.0.0.1:"), lines
        password = next(ln.split(": ", 2)[2] for ln in lines if "admin password:" in ln)
        secret_file = tmp_path / "data" / "admin-password.txt"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert password in secret_file.read_text(encoding="utf-8")
        login = httpx.post(
            f"{url}api/auth/login", json={"username": "admin", "password": password}, timeout=10
        )
        assert login.json()["role"] == "admin"
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        kpis = httpx.get(f"{url}api/kpi", headers=bearer, timeout=5).json()
        assert "operations" in [k["source"] for k in kpis]  # published by serve at start
        assert httpx.get(f"{url}readyz", timeout=5).status_code == 200
    finally:
        code, rest = _stop(proc, sig)
    assert code == 0, rest
    assert "shutting down" in rest

    proc, lines, url = _start(serve_cmd)  # second start: no new credential
    code, rest = _stop(proc, signal.SIGTERM)
    assert url and not any("password" in ln for ln in lines + rest.splitlines())
    assert code == 0


def test_serve_refuses_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cameras.yaml"
    bad.write_text("cameras:\n  - id: a\n    source: x.mp4\n    detect: {fps: -1}\n", encoding="utf-8")
    code, _, err = ioc(capsys, "serve", "--config", str(bad), "--data-dir", str(tmp_path))
    assert code == 2
    assert "fps" in err and "line 4" in err and "Traceback" not in err


def test_serve_fails_fast_when_the_port_is_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The port is checked before the config and the engine load: the absent config is not reached."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ("serve", "--port", str(port), "--config", str(tmp_path / "absent.yaml"))
        code, out, err = ioc(capsys, *argv, "--data-dir", str(tmp_path))
    assert code == 2
    assert err.strip() == f"ioc serve: cannot listen on 127.0.0.1:{port}: address already in use"
    assert "serving" not in out and not (tmp_path / "ioc.db").exists()


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        (
            {},
            ["--port", "99999"],
            "setting port (IOC_PORT or --port): Input should be less than or equal to 65535",
        ),
        ({"IOC_PORT": "abc"}, [], "setting port (IOC_PORT or --port): Input should be a valid integer"),
        ({"IOC_TOKEN_TTL_MINUTES": "0"}, [], "setting token_ttl_minutes (IOC_TOKEN_TTL_MINUTES): "),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    argv: list[str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = ioc(capsys, "serve", "--no-engine", *argv, "--data-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"ioc serve: {message}") and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("argv", "env", "exit_code", "message"),
    [
        (
            ["--minutes", "99999999999"],
            {},
            1,
            "--minutes must be between 1 and 5270400 (10 years), got 99999999999",
        ),
        (
            [],
            {"IOC_TOKEN_TTL_MINUTES": "6000000"},
            2,
            "setting token_ttl_minutes (IOC_TOKEN_TTL_MINUTES): Input should be less than or equal to",
        ),
    ],
)
def test_token_lifetime_is_bounded(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    exit_code: int,
    message: str,
) -> None:
    assert ioc(capsys, "users", "add", "lan", "--password", "lan-pass-1", "--data-dir", str(tmp_path))[0] == 0
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = ioc(capsys, "token", "lan", *argv, "--data-dir", str(tmp_path))
    assert code == exit_code and out == ""
    assert err.startswith(f"ioc token: {message}") and len(err.strip().splitlines()) == 1, err


def test_websocket_tokens_are_redacted_from_server_logs() -> None:
    import logging

    from ioc.app.serve import RedactTokens

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5555", "/ws?token=eyJhbG.cGF5.c2ln&last_seq=4"),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5555 - "WebSocket /ws?token=***&last_seq=4" [accepted]'


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "list"],
        ["users", "remove", "lan"],
        ["users", "passwd", "lan", "--password", "x" * 8],
        ["token", "lan"],
    ],
)
def test_a_mistyped_data_dir_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    typo = tmp_path / "dat"
    code, out, err = ioc(capsys, *argv, "--data-dir", str(typo))
    assert code == 1 and out == ""
    assert f"no user store at {typo / 'ioc.db'}" in err and len(err.strip().splitlines()) == 1
    assert not typo.exists()


@pytest.mark.slow
@pytest.mark.parametrize(("setting", "negotiated"), [(None, False), ("false", False), ("true", True)])
def test_ws_compression_is_off_unless_the_setting_asks_for_it(
    serve_cmd: list[str], monkeypatch: pytest.MonkeyPatch, setting: str | None, negotiated: bool
) -> None:
    from websockets.sync.client import connect

    if setting is None:
        monkeypatch.delenv("IOC_WS_COMPRESSION", raising=False)
    else:
        monkeypatch.setenv("IOC_WS_COMPRESSION", setting)
    proc, lines, url = _start(serve_cmd)
    try:
        assert url, lines
        # the client offers permessage-deflate, as browsers do; the server's answer decides
        with connect(url.replace("http", "ws", 1) + "ws", compression="deflate", open_timeout=10) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
    finally:
        _stop(proc, signal.SIGTERM)
    assert ("permessage-deflate" in extensions) is negotiated
