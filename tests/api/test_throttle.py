"""Login throttling: slow down, then lock, per user and per address; the last admin can still log
in from the server itself; a burst of wrong passwords costs no hashing once refused."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from ioc.api.throttle import LoginThrottle
from tests.api.conftest import PASSWORDS, Api


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _locks(scope: str) -> float:
    return REGISTRY.get_sample_value("ioc_login_locks_total", {"scope": scope}) or 0.0


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(1, 0.0), (2, 0.0), (3, 1.0), (4, 2.0), (5, 4.0), (9, 60.0), (10, 60.0)],
)
def test_slow_down_then_lock(failures: int, wait: float) -> None:
    clock = Clock()
    throttle = LoginThrottle(slowdown_after=3, lock_after=10, lock_seconds=60, clock=clock)
    for _ in range(failures):
        throttle.failed("admin", "203.0.113.9")
    assert throttle.wait_seconds("admin", "203.0.113.9")[0] == pytest.approx(wait)


def test_lock_is_counted_logged_and_ends_by_itself(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    throttle = LoginThrottle(slowdown_after=3, lock_after=5, lock_seconds=60, clock=clock)
    before_user, before_address = _locks("user"), _locks("address")
    with caplog.at_level(logging.WARNING, logger="ioc.api.throttle"):
        for _ in range(5):
            throttle.failed("admin", "203.0.113.9")
    assert _locks("user") == before_user + 1 and _locks("address") == before_address + 1
    assert "login locked" in caplog.text and "user:admin" in caplog.text
    assert throttle.wait_seconds("admin", "198.51.100.1") == (pytest.approx(60.0), "user")
    clock.now += 61
    assert throttle.wait_seconds("admin", "198.51.100.1") == (0.0, "")


def test_the_user_lock_never_applies_to_the_servers_own_address() -> None:
    throttle = LoginThrottle(slowdown_after=1, lock_after=2, lock_seconds=600, clock=Clock())
    for _ in range(5):
        throttle.failed("admin", "203.0.113.9")
    assert throttle.wait_seconds("admin", "203.0.113.10")[1] == "user"
    assert throttle.wait_seconds("admin", "127.0.0.1") == (0.0, "")
    assert throttle.wait_seconds("admin", "::1") == (0.0, "")


def test_success_clears_the_count() -> None:
    throttle = LoginThrottle(slowdown_after=2, lock_after=5, lock_seconds=60, clock=Clock())
    for _ in range(2):
        throttle.failed("olga", "203.0.113.9")
    throttle.succeeded("olga", "203.0.113.9")
    assert throttle.wait_seconds("olga", "203.0.113.9") == (0.0, "")


def test_burst_of_wrong_passwords_is_refused_with_retry_after(api: Api) -> None:
    codes = []
    for _ in range(12):
        r = api.client.post("/api/auth/login", json={"username": "admin", "password": "wrong-password"})
        codes.append(r.status_code)
    assert codes[:3] == [401, 401, 401]
    assert set(codes[3:]) == {429}
    assert int(r.headers["Retry-After"]) >= 1
    assert "too many failed logins" in r.json()["detail"]
    # while slowed down, even the right password waits its turn
    r = api.client.post("/api/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]})
    assert r.status_code == 429
