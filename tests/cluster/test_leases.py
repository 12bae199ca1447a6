"""Camera leases on a real (private) Redis: acquire, renew, expiry, release, fencing tokens,
re-taking a lapsed lease, tokens that keep increasing across a Redis restart, the live-worker set."""

from __future__ import annotations

import time

from ioc.cluster.leases import CameraLeases, fence_key, lease_holders
from tests.cluster.conftest import RedisServer


def _pair(server: RedisServer, lease_seconds: float = 0.3) -> tuple[CameraLeases, CameraLeases]:
    return (
        CameraLeases(server.client(), "node-a", lease_seconds),
        CameraLeases(server.client(), "node-b", lease_seconds),
    )


def test_one_holder_at_a_time_and_tokens_increase(redis_server: RedisServer) -> None:
    a, b = _pair(redis_server)
    token_a = a.acquire("gate")
    assert token_a is not None
    assert b.acquire("gate") is None
    assert a.renew("gate", token_a) == token_a
    assert b.renew("gate", 12345) is None  # renew is compare-and-extend: not b's lease
    assert lease_holders(redis_server.client(), "ioc") == {"gate": "node-a"}
    assert b.release("gate", token_a) is False  # b cannot release a's lease
    assert a.release("gate", token_a) is True
    token_b = b.acquire("gate")
    assert token_b is not None and token_b > token_a
    assert a.release("gate", token_a) is False  # a stale token releases nothing
    assert lease_holders(redis_server.client(), "ioc") == {"gate": "node-b"}


def test_renewal_keeps_a_lease_and_expiry_frees_it(redis_server: RedisServer) -> None:
    a, b = _pair(redis_server)
    token = a.acquire("gate")
    assert token is not None
    for _ in range(4):  # 0.4 s of renewals every 0.1 s outlive a 0.3 s lease
        time.sleep(0.1)
        assert a.renew("gate", token) == token
    assert b.acquire("gate") is None
    time.sleep(0.4)  # a stopped renewing
    token_b = b.acquire("gate")
    assert token_b is not None and token_b > token
    assert a.renew("gate", token) is None  # lost: a must stop the camera


def test_a_lapsed_free_lease_is_taken_again_with_a_new_token(redis_server: RedisServer) -> None:
    a, _ = _pair(redis_server)
    token = a.acquire("gate")
    assert token is not None
    time.sleep(0.4)
    renewed = a.renew("gate", token)
    assert renewed is not None and renewed > token
    assert lease_holders(redis_server.client(), "ioc") == {"gate": "node-a"}


def test_tokens_keep_increasing_when_redis_restarts_empty(redis_server: RedisServer) -> None:
    a, _ = _pair(redis_server, lease_seconds=10)
    first = a.acquire("gate")
    assert first is not None
    redis_server.stop()
    redis_server.start()
    a, b = _pair(redis_server, lease_seconds=10)
    assert redis_server.client().get(fence_key("ioc", "gate")) is None  # the counter is gone
    second = b.acquire("gate")
    assert second is not None and second > first


def test_live_workers_are_counted_until_their_heartbeat_expires(redis_server: RedisServer) -> None:
    a, b = _pair(redis_server)
    assert a.heartbeat() == 1
    assert b.heartbeat() == 2
    a.leave()
    assert b.heartbeat() == 1
    a.heartbeat()
    time.sleep(0.4)
    assert b.heartbeat() == 1  # a's heartbeat expired
