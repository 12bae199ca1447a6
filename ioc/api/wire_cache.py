"""The JSON text of bus messages, encoded once for all ``/ws`` connections.

The bus hands every subscription the *same* message object, so the text is cached by object
identity: a message fanned out to 50 walls is serialised once, not 50 times. An entry keeps its
message alive, so an identity is never reused while it is cached; the oldest entries go first once
``size`` is reached (a connection that is further behind than that encodes for itself, which is
correct, only slower). Thread-safe: each event loop serving ``/ws`` may call it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ioc.bus.base import Message

DEFAULT_SIZE = 4096


class WireCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError(f"size: expected ≥ 1, got {size}")
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[Message, str]] = OrderedDict()

    def text(self, message: Message) -> str:
        """``message.model_dump_json()``, computed at most once while it stays cached."""
        key = id(message)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] is message:
            return hit[1]
        text = message.model_dump_json()
        with self._lock:
            self._entries[key] = (message, text)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return text

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
