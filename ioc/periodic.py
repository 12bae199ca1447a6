"""A daemon thread that runs one job at start and then every ``interval_seconds``.

The job's failures are logged and retried at the next tick; they never end the thread. Used by
background services (retention, KPI publishing) that must never block the alert path.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


class PeriodicThread:
    """Subclasses implement :meth:`run_once`; ``start()`` / ``stop()`` manage the thread."""

    def __init__(self, name: str, interval_seconds: float) -> None:
        self._name = name
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        self._tick()
        while not self._stop.wait(self._interval):
            self._tick()

    def _tick(self) -> None:
        try:
            self.run_once()
        except Exception:
            logger.exception("%s failed; retrying in %.0f s", self._name, self._interval)
