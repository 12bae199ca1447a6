"""The camera stream state machine: which status changes are legal, and when each happened.

::

    connecting ──► online ──► stalled ──► connecting …
        │  │          │          │
        │  └──► stalled          └──► offline (stopped)
        └──► offline | error ──► connecting …

``online`` is reached only from ``connecting`` (the first frame of a connection); every way back
to ``connecting`` passes through ``stalled``, ``offline`` or ``error``, which is where the reader
waits out its backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ioc.ingest.reasons import Reason
from ioc.messages import CameraState, ReasonCode

STARTING = Reason.of(ReasonCode.STARTING)

ALLOWED: dict[CameraState, frozenset[CameraState]] = {
    CameraState.CONNECTING: frozenset(
        {CameraState.ONLINE, CameraState.STALLED, CameraState.OFFLINE, CameraState.ERROR}
    ),
    CameraState.ONLINE: frozenset({CameraState.STALLED, CameraState.OFFLINE, CameraState.ERROR}),
    CameraState.STALLED: frozenset({CameraState.CONNECTING, CameraState.OFFLINE}),
    CameraState.OFFLINE: frozenset({CameraState.CONNECTING}),
    CameraState.ERROR: frozenset({CameraState.CONNECTING, CameraState.OFFLINE}),
}


class IllegalTransition(RuntimeError):
    """A status change the state machine does not allow (a bug in the reader, never bad input)."""


@dataclass(frozen=True, slots=True)
class StateChange:
    state: CameraState
    reason: Reason
    changed_at: datetime


class StreamStateMachine:
    """Current state of one camera stream. Not thread-safe: one owner (the reader thread)."""

    def __init__(self, camera_id: str, reason: Reason = STARTING) -> None:
        self._camera_id = camera_id
        self._current = StateChange(CameraState.CONNECTING, reason, datetime.now(UTC))

    @property
    def current(self) -> StateChange:
        return self._current

    @property
    def state(self) -> CameraState:
        return self._current.state

    def can_go(self, new: CameraState) -> bool:
        return new in ALLOWED[self._current.state]

    def transition(self, new: CameraState, reason: Reason) -> StateChange:
        """Move to ``new``; raises ``IllegalTransition`` naming the camera, both states and why."""
        old = self._current.state
        if not self.can_go(new):
            allowed = ", ".join(sorted(s.value for s in ALLOWED[old]))
            raise IllegalTransition(
                f"camera {self._camera_id!r}: illegal transition {old.value} → {new.value} "
                f"(reason {reason.text!r}); from {old.value} only {allowed} are allowed"
            )
        self._current = StateChange(new, reason, datetime.now(UTC))
        return self._current
