"""Coalescing: at most one call per key per interval, with the latest value offered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

Send = Callable[[Any, Any], Awaitable[None]]

log = logging.getLogger(__name__)


class Coalescer:
    """The first offer for a key waits ``interval`` seconds; offers meanwhile replace its
    value; then ``send(key, value)`` runs once with the latest. Holds only keys waiting."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._waiting: dict[Hashable, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def offer(self, key: Hashable, value: Any, send: Send) -> None:
        first = key not in self._waiting
        self._waiting[key] = value
        if first:
            asyncio.get_running_loop().call_later(self.interval, self._flush, key, send)

    def _flush(self, key: Hashable, send: Send) -> None:
        value = self._waiting.pop(key)
        task = asyncio.ensure_future(self._run(send, key, value))
        self._tasks.add(task)  # kept until done: a task nobody holds may be collected
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(send: Send, key: Hashable, value: Any) -> None:
        try:
            await send(key, value)
        except Exception:
            # A notice that could not be sent (the database or bus is down, the server
            # is stopping) is dropped: the next one carries the state as it then is.
            log.warning("a coalesced notice for %r failed", key, exc_info=True)
