"""Camera leases in Redis: each camera runs on exactly one ``ioc worker`` at a time.

Keys (``<prefix>`` is ``ioc`` unless told otherwise):

- ``<prefix>:lease:<camera>`` = ``<node>|<token>`` with a time to live of ``lease_seconds``. Taken
  with one Lua script only when absent (``SET NX PX`` semantics); renewed by a compare-and-extend
  script (the value must still be ours); released by a compare-and-delete script.
- ``<prefix>:fence:<camera>``: the camera's fencing token counter. Every acquisition takes the
  next value (``INCR``), and never a value below Redis's clock in milliseconds, so tokens keep
  increasing even when Redis restarts empty (no persistence). The worker stamps the token on
  everything it publishes for the camera; API nodes drop a message whose token is older than one
  they have already seen for that camera (a worker that lost its lease but still runs).
- ``<prefix>:workers``: a sorted set of live worker nodes scored by when their heartbeat expires;
  its size is what the fair share divides by.

A renew that finds the lease gone (it expired, or Redis restarted empty) takes it again with a new
token when nobody else holds it, so a short Redis outage does not restart cameras. A renew that
finds another node's value reports the lease lost; the worker then stops that camera.
"""

from __future__ import annotations

from typing import Any

import redis

_NEW_TOKEN = """
local function new_token(fence_key)
  local token = redis.call('INCR', fence_key)
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if token < now_ms then
    token = now_ms
    redis.call('SET', fence_key, string.format('%.0f', token))
  end
  return string.format('%.0f', token)
end
"""

_ACQUIRE = (
    _NEW_TOKEN
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = new_token(KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token
"""
)

_RENEW = (
    _NEW_TOKEN
    + """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] .. '|' .. ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return ARGV[2]
end
if current then return false end
local token = new_token(KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[3])
return token
"""
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_HEARTBEAT = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now_ms + tonumber(ARGV[2])), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
"""


def lease_key(prefix: str, camera_id: str) -> str:
    return f"{prefix}:lease:{camera_id}"


def fence_key(prefix: str, camera_id: str) -> str:
    return f"{prefix}:fence:{camera_id}"


def lease_holders(client: redis.Redis, prefix: str) -> dict[str, str]:
    """``{camera: node}`` for every lease held now (read with SCAN; one key per camera)."""
    keys = sorted(str(k) for k in client.scan_iter(match=f"{prefix}:lease:*", count=500))
    values: list[Any] = client.mget(keys) if keys else []
    start = len(f"{prefix}:lease:")
    return {k[start:]: str(v).rsplit("|", 1)[0] for k, v in zip(keys, values, strict=True) if v}


class CameraLeases:
    """One worker node's side of the leases. Every call is one round trip (a script); every call
    raises ``redis.RedisError`` when Redis cannot be reached — the caller decides what that means."""

    def __init__(self, client: redis.Redis, node: str, lease_seconds: float, *, prefix: str = "ioc") -> None:
        if "|" in node:
            raise ValueError(f"node name {node!r} must not contain '|'")
        self.node = node
        self.prefix = prefix
        self.ttl_ms = int(lease_seconds * 1000)
        self._client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._heartbeat = client.register_script(_HEARTBEAT)

    def heartbeat(self) -> int:
        """Say this worker is alive for one more lease; returns how many workers are alive."""
        return int(self._heartbeat(keys=[f"{self.prefix}:workers"], args=[self.node, self.ttl_ms]))

    def leave(self) -> None:
        """Take this worker out of the live set (a clean shutdown)."""
        self._heartbeat(keys=[f"{self.prefix}:workers"], args=[self.node, ""])

    def acquire(self, camera_id: str) -> int | None:
        """The new fencing token, or None when another node holds the camera."""
        token = self._acquire(keys=self._keys(camera_id), args=[self.node, self.ttl_ms])
        return None if token is None else int(token)

    def renew(self, camera_id: str, token: int) -> int | None:
        """Extend our lease: the same token, a new one if the lease had lapsed and was free, or
        None when another node holds it now."""
        renewed = self._renew(keys=self._keys(camera_id), args=[self.node, token, self.ttl_ms])
        return None if renewed is None else int(renewed)

    def release(self, camera_id: str, token: int) -> bool:
        """Give the camera up (only if the lease is still ours); True when it was."""
        return bool(self._release(keys=[lease_key(self.prefix, camera_id)], args=[f"{self.node}|{token}"]))

    def holders(self) -> dict[str, str]:
        return lease_holders(self._client, self.prefix)

    def _keys(self, camera_id: str) -> list[str]:
        return [lease_key(self.prefix, camera_id), fence_key(self.prefix, camera_id)]


def fair_share(cameras: int, workers: int) -> int:
    """How many unpinned cameras one worker should hold: ceil(cameras / workers)."""
    return -(-cameras // max(workers, 1))
