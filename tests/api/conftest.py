"""The real app over a real SQLite store and the in-memory bus, one user per role."""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from ioc.api.app import create_app
from ioc.api.auth import hash_password, issue_token
from ioc.api.context import ApiOptions
from ioc.bus.base import ServerBus
from ioc.bus.memory import MemoryBus
from ioc.messages import Alert
from ioc.settings import Settings, load_settings
from ioc.store.sqlite import SqliteStore
from tests.factories import make_ioc_config

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2; the httpx this project pins works the same for these tests.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

PASSWORDS = {"admin": "admin-pass-1", "olga": "olga-pass-1", "pol": "pol-pass-1", "tra": "tra-pass-1"}
ROLES = {"admin": "admin", "olga": "operator", "pol": "police", "tra": "traffic"}
USER_OF_ROLE = {role: name for name, role in ROLES.items()}


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    bus: ServerBus
    store: SqliteStore
    settings: Settings
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def publish(self, *alerts: Alert) -> list[Alert]:
        out = [self.bus.publish(a) for a in alerts]
        self.flush()
        return out  # type: ignore[return-value]

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until the bus dispatcher has stored everything published so far."""
        deadline = time.monotonic() + timeout
        while self.store.max_seq() < self.bus.last_seq and time.monotonic() < deadline:
            time.sleep(0.005)


@functools.cache
def _hash(password: str) -> str:
    return hash_password(password)  # argon2 takes ~0.5 s here: hash each test password once


def seed_users(store: SqliteStore) -> None:
    for name, role in ROLES.items():
        store.add_user(name, role, _hash(PASSWORDS[name]), datetime.now(UTC))


def build_api(
    tmp_path: Path,
    options: ApiOptions | None = None,
    bus_factory: Callable[[SqliteStore], ServerBus] = MemoryBus,
    **app_kwargs: object,
) -> Iterator[Api]:
    settings = load_settings(data_dir=tmp_path / "data", config_path=tmp_path / "cameras.yaml")
    store = SqliteStore(settings.data_dir / "ioc.db")
    seed_users(store)
    bus = bus_factory(store)
    app = create_app(
        settings,
        bus=bus,
        store=store,
        **{
            "config": make_ioc_config(retention={"max_age_days": 36500}),
            "options": options or ApiOptions(heartbeat_seconds=30),
            **app_kwargs,
        },  # type: ignore[arg-type]
    )
    with TestClient(app) as client:
        secret = app.state.ctx.secret
        tokens = {}
        for name, role in ROLES.items():
            user = store.get_user(name)
            assert user is not None
            tokens[role] = issue_token(secret, app.state.ctx.sessions, user, timedelta(hours=1))
        yield Api(app, client, bus, store, settings, tokens)
    bus.close()
    store.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(tmp_path)
