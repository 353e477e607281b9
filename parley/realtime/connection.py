"""One WebSocket connection: its identity, the rooms it follows, and its outbound queue.

Frames for a connection are queued (bounded) and sent by one writer task, so a slow
reader never blocks fan-out to everyone else: past the bound it is disconnected with
close code 4008 and can resume later with nothing missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from parley.domain.models import User

log = logging.getLogger(__name__)

# Frames waiting for one connection before it counts as stuck and is dropped.
MAX_QUEUED_FRAMES = 2_000
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Connection:
    def __init__(self, conn_id: str, user: User, session_id: str | None, send: Send) -> None:
        self.id = conn_id
        self.user = user
        self.session_id = session_id
        self.rooms: set[int] = set()
        # Highest seq delivered per room: drops repeats, lets resume continue from it.
        self.delivered: dict[int, int] = {}
        # Rooms being caught up: live frames wait here so that order is kept.
        self.held: dict[int, list[tuple[int, str]]] = {}
        self._send = send
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._close_code: int | None = None
        self._close_reason = ""
        self.closed = asyncio.Event()

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def closing(self) -> bool:
        return self._close_code is not None

    def push(self, frame: str) -> None:
        """Queue a frame; disconnect the connection if it has fallen too far behind."""
        if self._close_code is not None:
            return
        if len(self._queue) >= MAX_QUEUED_FRAMES:
            log.info("closing connection %s of user %s: too slow", self.id, self.user.id)
            self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
            return
        self._queue.append(frame)
        self._wakeup.set()

    def deliver(self, room_id: int, seq: int | None, frame: str) -> None:
        """Queue a room frame, in seq order and at most once per seq."""
        if seq is not None:
            held = self.held.get(room_id)
            if held is not None:
                held.append((seq, frame))
                return
            if seq <= self.delivered.get(room_id, 0):
                return
            self.delivered[room_id] = seq
        self.push(frame)

    def hold(self, room_id: int) -> None:
        self.held.setdefault(room_id, [])

    def release(self, room_id: int, caught_up_to: int) -> None:
        """Stop holding a room: send the held frames that came after the catch-up."""
        held = self.held.pop(room_id, [])
        self.delivered[room_id] = max(self.delivered.get(room_id, 0), caught_up_to)
        for seq, frame in sorted(held, key=lambda item: item[0]):
            self.deliver(room_id, seq, frame)

    def close(self, code: int, reason: str = "") -> None:
        """Close with ``code``: frames still queued are dropped, a resume recovers them."""
        if self._close_code is None:
            self._close_code = code
            self._close_reason = reason
            self._queue.clear()
            self._wakeup.set()

    async def run_writer(self) -> None:
        """Send queued frames until the connection closes. One writer per connection."""
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue and self._close_code is None:
                    await self._send({"type": "websocket.send", "text": self._queue.popleft()})
                if self._close_code is not None:
                    await self._send(
                        {
                            "type": "websocket.close",
                            "code": self._close_code,
                            "reason": self._close_reason,
                        }
                    )
                    return
        except Exception:  # the peer is gone; the reader sees the disconnect
            log.debug("writer of %s stopped", self.id, exc_info=True)
        finally:
            self._queue.clear()
            self.closed.set()
