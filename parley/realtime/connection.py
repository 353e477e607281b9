"""One WebSocket connection: its identity, the rooms it follows, and its outbound queue.

Frames for a connection are queued (bounded) and sent by one writer task, so a slow
reader never blocks fan-out to everyone else: past the bound it is disconnected with
close code 4008 and can resume later with nothing missed.

The writer sends everything waiting (up to a byte budget) in one transport write when
the server offers it (see parley.realtime.transport). A peer that stops reading blocks
the writer in that write; the queue bound then closes the connection, and if the writer
is still blocked after CLOSE_GRACE_S the transport is aborted, which frees the socket and
ends both the writer and the reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from parley.domain.models import User

log = logging.getLogger(__name__)

# A connection counts as stuck, and is dropped, past either bound. Frames are shared
# between recipients (encoded once), so the bytes bound is what one stuck peer can pin.
MAX_QUEUED_FRAMES = 2_000
MAX_QUEUED_BYTES = 2 * 1024 * 1024
# One transport write carries at most this much, so one write never holds the loop long.
WRITE_BUDGET_BYTES = 256 * 1024
# Catch-up (resume) waits until the queue is below this before it reads the next page,
# so a long resume is paced by the client's reading instead of tripping the bound.
LOW_WATER_BYTES = 256 * 1024
# After the close is decided, how long the writer may stay blocked on a full socket
# (a slow reader that is still reading gets its close frame) before the socket is aborted.
CLOSE_GRACE_S = 5.0
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001

Send = Callable[[dict[str, Any]], Awaitable[None]]
SendBatch = Callable[[list[bytes]], Awaitable[None]]
Abort = Callable[[], None]
Frame = str | bytes


def _as_bytes(frame: Frame) -> bytes:
    return frame.encode() if isinstance(frame, str) else frame


class Connection:
    def __init__(
        self,
        conn_id: str,
        user: User,
        session_id: str | None,
        send: Send,
        *,
        send_batch: SendBatch | None = None,
        abort: Abort | None = None,
    ) -> None:
        self.id = conn_id
        self.user = user
        self.session_id = session_id
        self.rooms: set[int] = set()
        # Highest seq delivered per room: drops repeats, lets resume continue from it.
        self.delivered: dict[int, int] = {}
        # Lowest seq from which every frame up to ``delivered`` went out on this
        # connection: a resume skips that span instead of sending it twice.
        self.since: dict[int, int] = {}
        # Rooms being caught up: live frames wait here so that order is kept.
        self.held: dict[int, list[tuple[int, Frame]]] = {}
        self._send = send
        self._send_batch = send_batch
        self._abort = abort
        self._queue: deque[Frame] = deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._close_code: int | None = None
        self._close_reason = ""
        self._abort_timer: asyncio.TimerHandle | None = None
        # Frames that arrive before ``ready`` (presence, typing) wait for it: ready is first.
        self._before_ready: list[Frame] | None = []
        self.closed = asyncio.Event()
        self.writes = 0
        self.frames_sent = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    @property
    def closing(self) -> bool:
        return self._close_code is not None

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def push(self, frame: Frame) -> None:
        """Queue a frame; disconnect the connection if it has fallen too far behind."""
        if self._close_code is not None:
            return
        if self._before_ready is not None:
            if len(self._before_ready) >= MAX_QUEUED_FRAMES:
                self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
            else:
                self._before_ready.append(frame)
            return
        size = len(frame)
        if len(self._queue) >= MAX_QUEUED_FRAMES or self._queued_bytes + size > MAX_QUEUED_BYTES:
            log.info("closing connection %s of user %s: too slow", self.id, self.user.id)
            self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
            return
        self._queue.append(frame)
        self._queued_bytes += size
        if self._queued_bytes > LOW_WATER_BYTES:
            self._drained.clear()
        self._wakeup.set()

    def ready(self, frame: Frame) -> None:
        """Queue the ``ready`` frame, then whatever arrived while it was being built."""
        waiting, self._before_ready = self._before_ready or [], None
        self.push(frame)
        for early in waiting:
            self.push(early)

    def deliver(self, room_id: int, seq: int | None, frame: Frame) -> None:
        """Queue a room frame, in seq order and at most once per seq."""
        if seq is not None:
            held = self.held.get(room_id)
            if held is not None:
                if len(held) >= MAX_QUEUED_FRAMES:  # caught up too slowly: same bound
                    self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
                    return
                held.append((seq, frame))
                return
            if seq <= self.delivered.get(room_id, 0):
                return
            self.delivered[room_id] = seq
            self.since.setdefault(room_id, seq)
        self.push(frame)

    def hold(self, room_id: int) -> None:
        self.held.setdefault(room_id, [])

    def release(self, room_id: int, caught_up_to: int) -> None:
        """Stop holding a room: send the held frames that came after the catch-up."""
        held = self.held.pop(room_id, [])
        self.delivered[room_id] = max(self.delivered.get(room_id, 0), caught_up_to)
        self.since.setdefault(room_id, caught_up_to + 1)
        for seq, frame in sorted(held, key=lambda item: item[0]):
            self.deliver(room_id, seq, frame)

    async def drained(self) -> None:
        """Wait until the queue is below the low-water mark (or the connection closes)."""
        while self._queued_bytes > LOW_WATER_BYTES and self._close_code is None:
            self._drained.clear()
            await self._drained.wait()

    def close(self, code: int, reason: str = "") -> None:
        """Close with ``code``: frames still queued are dropped, a resume recovers them."""
        if self._close_code is not None:
            return
        self._close_code = code
        self._close_reason = reason
        self._queue.clear()
        self._queued_bytes = 0
        self._drained.set()
        self._wakeup.set()
        if self._abort is not None and not self.closed.is_set():
            loop = asyncio.get_running_loop()
            self._abort_timer = loop.call_later(CLOSE_GRACE_S, self._abort_if_stuck)

    def _abort_if_stuck(self) -> None:
        self._abort_timer = None
        if not self.closed.is_set() and self._abort is not None:
            log.info("aborting connection %s: its socket does not drain", self.id)
            self._abort()

    def _take_batch(self) -> list[Frame]:
        batch = [self._queue.popleft()]
        size = len(batch[0])
        while self._queue and size + len(self._queue[0]) <= WRITE_BUDGET_BYTES:
            frame = self._queue.popleft()
            size += len(frame)
            batch.append(frame)
        self._queued_bytes -= size
        return batch

    async def _write(self, batch: list[Frame]) -> None:
        self.writes += 1
        self.frames_sent += len(batch)
        if self._send_batch is not None:
            await self._send_batch([_as_bytes(frame) for frame in batch])
            return
        for frame in batch:
            text = frame if isinstance(frame, str) else frame.decode()
            await self._send({"type": "websocket.send", "text": text})

    async def run_writer(self) -> None:
        """Send queued frames until the connection closes. One writer per connection."""
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue and self._close_code is None:
                    await self._write(self._take_batch())
                    if self._queued_bytes <= LOW_WATER_BYTES:
                        self._drained.set()
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
            self._queued_bytes = 0
            self._drained.set()
            self.closed.set()
            if self._abort_timer is not None:
                self._abort_timer.cancel()
                self._abort_timer = None
