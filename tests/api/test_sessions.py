"""Sessions end when they should: logout, password change, removal, re-adding with another role,
idle and lifetime limits; an open /ws of an ended session closes with 4401 within a second."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from starlette.websockets import WebSocketDisconnect

from ioc.api.context import ApiOptions
from ioc.cli import main
from ioc.store.sessions import SessionKind
from ioc.store.sqlite import SqliteStore
from tests.api.conftest import PASSWORDS, Api, build_api
from tests.factories import make_ioc_config


def _login(api: Api, username: str) -> str:
    r = api.client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    api.client.cookies.clear()
    return token


def _me(api: Api, token: str) -> int:
    return api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _sid(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


def test_logout_ends_the_session_everywhere(api: Api) -> None:
    token = _login(api, "olga")
    other = _login(api, "olga")  # a second browser of the same user
    assert _me(api, token) == 200
    r = api.client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    assert _me(api, token) == 401
    assert _me(api, other) == 200  # logout ends this session only


def test_password_change_from_the_cli_ends_every_session(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _login(api, "olga")
    code = main(
        ["users", "passwd", "olga", "--password", "new-pass-123", "--data-dir", str(api.settings.data_dir)]
    )
    assert code == 0
    assert "ended 2 sessions of olga" in capsys.readouterr().out  # this login + the fixture's
    assert _me(api, token) == 401
    assert _me(api, api.tokens["operator"]) == 401  # the fixture's token of olga too


def test_removed_user_readded_with_another_role_keeps_no_old_token(api: Api) -> None:
    old = api.tokens["traffic"]
    assert api.client.delete("/api/users/tra", headers=api.auth("admin")).status_code == 204
    r = api.client.post(
        "/api/users",
        json={"username": "tra", "role": "admin", "password": "tra-pass-2"},
        headers=api.auth("admin"),
    )
    assert r.status_code == 201
    assert _me(api, old) == 401
    assert api.client.get("/api/users", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_a_changed_user_record_ends_sessions_even_unrevoked(api: Api) -> None:
    """The session's stamp of the user no longer matches (a change made straight in the store)."""
    admin = api.store.get_user("admin")
    assert admin is not None
    api.store.remove_user("pol")
    api.store.add_user("pol", "admin", admin.password_hash, admin.created_at)
    assert _me(api, api.tokens["police"]) == 401


@pytest.fixture
def quick_revocation(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(tmp_path, ApiOptions(heartbeat_seconds=30, revocation_poll_seconds=0.1))


@pytest.mark.parametrize("how", ["remove", "logout", "passwd"])
def test_open_websocket_closes_with_4401_within_a_second(
    quick_revocation: Api, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = quick_revocation
    token = _login(api, "tra")
    data_dir = str(api.settings.data_dir)

    def end_session() -> None:
        if how == "remove":
            assert api.client.delete("/api/users/tra", headers=api.auth("admin")).status_code == 204
        elif how == "logout":
            api.client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        else:
            assert main(["users", "passwd", "tra", "--password", "tra-pass-new", "--data-dir", data_dir]) == 0

    with api.client.websocket_connect(f"/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "welcome"
        started = time.monotonic()
        threading.Thread(target=end_session).start()
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()  # heartbeats come every 30 s: only the close can end this
        elapsed = time.monotonic() - started
    assert exc.value.code == 4401
    assert elapsed < 1.0, f"closed after {elapsed:.2f} s"


def test_idle_login_session_ends_but_a_cli_token_has_no_idle_limit(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _login(api, "olga")
    assert main(["token", "olga", "--minutes", "60", "--data-dir", str(api.settings.data_dir)]) == 0
    cli_token = capsys.readouterr().out.strip()
    sessions = api.app.state.ctx.sessions
    idle = api.settings.session_idle_minutes * 60
    for t in (token, cli_token):
        sessions.touch(_sid(t), time.time() - idle - 5)
    r = api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "idle" in r.json()["detail"]
    assert _me(api, cli_token) == 200


def test_session_lifetime_is_the_token_lifetime(tmp_path: Path) -> None:
    for api in build_api(tmp_path, config=make_ioc_config()):
        token = _login(api, "olga")
        session = api.app.state.ctx.sessions.get(_sid(token))
        assert session is not None
        assert session.expires_at - time.time() == pytest.approx(api.settings.token_ttl_minutes * 60, abs=30)
        assert session.kind == "login"


def test_a_revocation_made_while_a_waiter_was_busy_is_not_missed(tmp_path: Path) -> None:
    import asyncio

    from ioc.api.sessions import RevocationWatch, SessionStore

    db = SqliteStore(tmp_path / "ioc.db")
    store = SessionStore(db)
    first = store.open("olga", "stamp", SessionKind.LOGIN, 60)

    async def scenario() -> int:
        watch = RevocationWatch(store)
        poller = asyncio.create_task(watch.run(0.01))
        seen = watch.seen
        store.revoke(first.id)  # happens while nobody waits (the waiter is "busy")
        await asyncio.sleep(0.1)
        revision = await asyncio.wait_for(watch.wait_past(seen), 1.0)  # returns at once
        poller.cancel()
        return revision

    assert asyncio.run(scenario()) > 0
    db.close()


def test_the_cli_moves_an_older_sessions_file_before_ending_sessions(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    """An upgrade where ``ioc users passwd`` runs before the new server started: the older
    ``sessions.db`` is moved into the store first, so its sessions end too (not revived later)."""
    import sqlite3

    path = api.settings.data_dir / "sessions.db"
    now = time.time()
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, username TEXT, stamp TEXT, kind TEXT, "
            "created_at REAL, expires_at REAL, last_seen REAL, revoked INTEGER)"
        )
        conn.execute(
            "INSERT INTO sessions VALUES ('old', 'olga', 's', 'login', ?, ?, ?, 0)", (now, now + 60, now)
        )
    data_dir = str(api.settings.data_dir)
    assert main(["users", "passwd", "olga", "--password", "new-pass-123", "--data-dir", data_dir]) == 0
    assert "ended 2 sessions of olga" in capsys.readouterr().out  # the fixture's and the old file's
    assert not path.exists()
    assert api.app.state.ctx.sessions.get("old") is None
