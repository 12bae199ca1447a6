"""Message bus between the pipeline / KPI side and the API side."""

from __future__ import annotations

from ioc.bus.base import Bus, Message, ServerBus
from ioc.settings import Settings
from ioc.store.base import Store


def open_bus(settings: Settings, store: Store) -> ServerBus:
    """Redis Streams when ``IOC_REDIS_URL`` is set, otherwise the in-process bus."""
    if settings.redis_url:
        from ioc.bus.redis_bus import RedisBus

        return RedisBus(settings.redis_url, store, node=settings.node_name)
    from ioc.bus.memory import MemoryBus

    return MemoryBus(store)


__all__ = ["Bus", "Message", "ServerBus", "open_bus"]
