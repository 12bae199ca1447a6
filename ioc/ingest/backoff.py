"""Capped exponential backoff with a little jitter, for reconnecting to camera sources."""

from __future__ import annotations

import random


class Backoff:
    """Delays ``initial_s, 2·initial_s, 4·initial_s, …`` capped at ``max_s``, each stretched by up
    to ``jitter`` (a fraction) so that cameras behind one failed switch do not reconnect in step.
    A delay never exceeds ``max_s``. ``reset()`` after a healthy period starts again small.
    """

    def __init__(
        self, initial_s: float, max_s: float, *, jitter: float = 0.1, seed: int | None = None
    ) -> None:
        if initial_s <= 0:
            raise ValueError(f"backoff initial delay must be > 0 s, got {initial_s}")
        if max_s < initial_s:
            raise ValueError(f"backoff max delay ({max_s} s) must be >= the initial delay ({initial_s} s)")
        if not 0 <= jitter <= 1:
            raise ValueError(f"backoff jitter must be a fraction in [0, 1], got {jitter}")
        self._initial_s = initial_s
        self._max_s = max_s
        self._jitter = jitter
        self._rng = random.Random(seed)
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Delays handed out since the last reset."""
        return self._attempt

    def next_delay(self) -> float:
        base = min(self._max_s, self._initial_s * 2.0 ** min(self._attempt, 62))
        self._attempt += 1
        return min(self._max_s, base * (1.0 + self._rng.uniform(0.0, self._jitter)))

    def reset(self) -> None:
        self._attempt = 0
