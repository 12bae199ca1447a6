"""Login throttling: per user name and per client address, slow down, then lock.

Each *key* (``user:<name>`` and ``address:<ip>``) counts failed logins; a failure older than the
lock time is forgotten, a successful login clears both keys of that attempt. With ``n`` failures:

- ``n >= slowdown_after``: the next attempt for the key is refused (429, ``Retry-After``) until
  ``2 ** (n - slowdown_after)`` seconds after the last failure (1, 2, 4, … capped at the lock time);
- ``n >= lock_after``: the key is locked for ``lock_seconds``; the lock is logged (warning) and
  counted in ``ioc_login_locks_total{scope}``.

A refused attempt checks no password (an attacker's burst costs no hashing, so probes like
``/healthz`` stay fast) and does not count as a failure. At most ``HASH_SLOTS`` password checks run
at once; the rest wait their turn and are checked against the throttle again first.

**The last admin cannot be locked out for good**: locks end by themselves after ``lock_seconds``;
the per-user lock is never applied to logins from the server's own loopback address (an admin on
the server's console, or an SSH tunnel, can always log in while an attacker elsewhere keeps the
name locked), and ``ioc token <user>`` on the server issues a token without a login at all.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from ioc.metrics import LOGIN_LOCKS, LOGIN_THROTTLED

logger = logging.getLogger(__name__)

MAX_KEYS = 50_000
"""Keys remembered at most (oldest forgotten first), so a spray of names cannot exhaust memory."""
HASH_SLOTS = 2


@dataclass(slots=True)
class _Entry:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class LoginThrottle:
    """Counts failures per key; says how long an attempt must wait (0: go ahead)."""

    def __init__(
        self,
        slowdown_after: int,
        lock_after: int,
        lock_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slowdown_after = slowdown_after
        self.lock_after = lock_after
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.hash_slots = anyio.CapacityLimiter(HASH_SLOTS)
        """Password checks running at once (the login route holds one while it hashes)."""

    @staticmethod
    def keys(username: str, address: str | None) -> list[tuple[str, str]]:
        """(scope, key) pairs an attempt is counted under."""
        keys = [] if is_loopback(address) else [("user", f"user:{username.lower()}")]
        if address:
            keys.append(("address", f"address:{address}"))
        return keys

    def wait_seconds(self, username: str, address: str | None) -> tuple[float, str]:
        """(seconds before an attempt is allowed, scope that holds it); (0, "") when allowed."""
        now = self._clock()
        worst = (0.0, "")
        with self._lock:
            for scope, key in self.keys(username, address):
                wait = self._wait(self._entries.get(key), now)
                if wait > worst[0]:
                    worst = (wait, scope)
        if worst[0] > 0:
            LOGIN_THROTTLED.labels(scope=worst[1]).inc()
        return worst

    def _wait(self, entry: _Entry | None, now: float) -> float:
        if entry is None:
            return 0.0
        if entry.locked_until > now:
            return entry.locked_until - now
        if entry.failures < self.slowdown_after:
            return 0.0
        delay = min(2.0 ** (entry.failures - self.slowdown_after), self.lock_seconds)
        return max(0.0, entry.last_failure + delay - now)

    def failed(self, username: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for scope, key in self.keys(username, address):
                entry = self._entry(key, now)
                entry.failures += 1
                entry.last_failure = now
                if entry.failures >= self.lock_after and entry.locked_until <= now:
                    entry.locked_until = now + self.lock_seconds
                    LOGIN_LOCKS.labels(scope=scope).inc()
                    logger.warning(
                        "login locked for %.0f s after %d failures: %s",
                        self.lock_seconds,
                        entry.failures,
                        key,
                    )

    def succeeded(self, username: str, address: str | None) -> None:
        with self._lock:
            for _, key in self.keys(username, address):
                self._entries.pop(key, None)

    def _entry(self, key: str, now: float) -> _Entry:
        entry = self._entries.pop(key, None)
        if entry is None or (now - entry.last_failure > self.lock_seconds and entry.locked_until <= now):
            entry = _Entry()
        self._entries[key] = entry  # most recent last
        while len(self._entries) > MAX_KEYS:
            self._entries.popitem(last=False)
        return entry
