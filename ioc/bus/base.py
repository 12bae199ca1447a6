"""The Bus protocol: how the pipeline and the KPI side hand messages to the API side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from ioc.messages import Alert, CameraStatus, FlowCount, KpiSnapshot

if TYPE_CHECKING:
    from ioc.bus.subscription import Subscription

Message = Alert | CameraStatus | KpiSnapshot | FlowCount


class Bus(Protocol):
    def publish(self, message: Message) -> Message:
        """Thread-safe and never blocks the caller for long. Alerts come back with ``seq`` set
        (strictly increasing across the whole bus); other messages come back unchanged."""
        ...

    def subscribe(self, after_seq: int | None = None) -> AsyncIterator[Message]:
        """Alerts with seq > after_seq in order (replayed from the store), then live messages."""
        ...

    def close(self) -> None: ...


class ServerBus(Bus, Protocol):
    """What the API side needs beyond :class:`Bus`: a subscription it can watch for overflow
    (to cut a slow client off) and the head of the alert sequence."""

    @property
    def last_seq(self) -> int: ...

    def readiness(self) -> dict[str, object]:
        """For ``/readyz``: bool entries are checks (Redis reachable), others are shown as they are
        (which worker holds each camera's lease). Empty for the in-process bus."""
        ...

    def subscribe(self, after_seq: int | None = None, *, queue_size: int | None = None) -> Subscription:
        """As :meth:`Bus.subscribe`; ``queue_size`` bounds this subscriber's backlog."""
        ...
