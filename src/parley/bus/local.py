"""The in-process bus: a publish is a direct call of this process's gateway."""

from __future__ import annotations

import time

from parley.bus.base import Event, EventHandler
from parley.metrics import BusReadings


class LocalBus:
    def __init__(self) -> None:
        self._handler: EventHandler | None = None

    async def start(self, handler: EventHandler) -> None:
        self._handler = handler

    async def publish(self, event: Event) -> None:
        self.publish_nowait(event)

    def publish_nowait(self, event: Event) -> None:
        if self._handler is not None:
            event.sent_at = time.time()
            self._handler(event)

    async def close(self) -> None:
        self._handler = None

    def readings(self) -> BusReadings:
        return BusReadings()
