"""One WebSocket connection: its identity, the rooms it follows, and its outbound queue.

There is no task per connection. Frames are framed once (a server frame is the same
bytes for every recipient), appended to the connection's queue, and at the end of the
event loop's current step one callback writes every connection that has something
waiting, each with a single ``write`` of everything queued for it. So a group commit that
publishes twenty messages costs each recipient one syscall, not twenty task wake-ups.

While the socket's buffer is full (the transport paused writing) frames stay queued; past
the bound the connection is closed with 4008 and can resume later with nothing missed.
Closing sends the close frame at once and gives the peer CLOSE_GRACE_S to answer before
the socket is aborted, so a peer that reads nothing cannot pin its buffers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from parley.domain.models import User

log = logging.getLogger(__name__)

# A connection counts as stuck, and is dropped, past either bound. Frames are shared
# between recipients (encoded once), so the bytes bound is what one stuck peer can pin.
MAX_QUEUED_FRAMES = 2_000
MAX_QUEUED_BYTES = 2 * 1024 * 1024
# Catch-up (resume) waits until the queue is below this before it reads the next page,
# so a long resume is paced by the client's reading instead of tripping the bound.
LOW_WATER_BYTES = 256 * 1024
# After the close is decided, how long the peer has to answer it (a slow reader that is
# still reading gets its close frame) before the socket is aborted.
CLOSE_GRACE_S = 5.0
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001

Frame = str | bytes


class Socket(Protocol):
    """What a connection needs from the WebSocket under it (see realtime.transport)."""

    # True while the transport's buffer is above its high-water mark.
    write_paused: bool

    def write(self, data: bytes) -> None:
        """Write already-framed bytes."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Send a close frame now; abort if the peer has not answered within the grace."""
        ...


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, final WebSocket text frame (RFC 6455 section 5.2)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


def framed(frame: Frame) -> bytes:
    """A text frame's payload as the bytes that go on the wire.

    Built here rather than by websockets' ``send_text``: a server frame is a 2-10 byte
    header plus the payload (no mask, no extension negotiated), 0.5 us against 3.5 us.
    """
    payload = frame.encode() if isinstance(frame, str) else frame
    return text_frame_header(len(payload)) + payload


class FlushScheduler:
    """Writes every connection with queued frames once, at the end of the loop's step."""

    __slots__ = ("_due",)

    def __init__(self) -> None:
        self._due: list[Connection] = []

    def schedule(self, conn: Connection) -> None:
        if not self._due:
            asyncio.get_running_loop().call_soon(self._run)
        self._due.append(conn)

    def _run(self) -> None:
        due, self._due = self._due, []
        for conn in due:
            conn.flush()


class Connection:
    __slots__ = (
        "_before_ready",
        "_close_code",
        "_due",
        "_queue",
        "_queued_bytes",
        "_scheduler",
        "_socket",
        "_waiters",
        "awaiting_resume",
        "delivered",
        "frames_sent",
        "held",
        "id",
        "lost",
        "rooms",
        "session_id",
        "since",
        "user",
        "writes",
    )

    def __init__(
        self,
        conn_id: str,
        user: User,
        session_id: str | None,
        socket: Socket,
        scheduler: FlushScheduler | None = None,
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
        # Rooms being caught up: live frames wait here so that order is kept. None
        # when no room is (nearly always: an idle connection should not pay for a dict).
        self.held: dict[int, list[tuple[int, bytes]]] | None = None
        # Rooms held since ``ready`` for a client that said it will resume (``/ws?resume=1``),
        # each with the last seq ``ready`` gave it: released by the resume or a timeout.
        self.awaiting_resume: dict[int, int] | None = None
        # The socket is gone (the peer left, or it was aborted).
        self.lost = False
        self.writes = 0
        self.frames_sent = 0
        self._socket = socket
        self._scheduler = scheduler or FlushScheduler()
        self._queue: list[bytes] = []
        self._queued_bytes = 0
        self._due = False
        # Frames that arrive before ``ready`` (presence, typing) wait for it: ready is first.
        self._before_ready: list[bytes] | None = []
        self._close_code: int | None = None
        # Made only while a resume waits for the queue to drain.
        self._waiters: list[asyncio.Future[None]] | None = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    @property
    def closing(self) -> bool:
        return self._close_code is not None or self.lost

    @property
    def close_code(self) -> int | None:
        return self._close_code

    def push(self, frame: Frame) -> None:
        """Queue a frame for this connection only."""
        self.push_framed(framed(frame))

    def push_framed(self, data: bytes) -> None:
        """Queue wire bytes (see :func:`framed`); disconnect if too far behind."""
        if self._close_code is not None or self.lost:
            return
        if self._before_ready is not None:
            if len(self._before_ready) >= MAX_QUEUED_FRAMES:
                self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
            else:
                self._before_ready.append(data)
            return
        size = len(data)
        if len(self._queue) >= MAX_QUEUED_FRAMES or self._queued_bytes + size > MAX_QUEUED_BYTES:
            # The bound is for frames a slow reader leaves waiting, not for a burst made
            # in one step (2,001 pings in one read): while the socket takes data, write
            # what is queued now instead of counting it against the peer.
            self.flush()
        if len(self._queue) >= MAX_QUEUED_FRAMES or self._queued_bytes + size > MAX_QUEUED_BYTES:
            log.info("closing connection %s of user %s: too slow", self.id, self.user.id)
            self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
            return
        self._queue.append(data)
        self._queued_bytes += size
        if not self._due:
            self._due = True
            self._scheduler.schedule(self)

    def ready(self, frame: Frame) -> None:
        """Queue the ``ready`` frame, then whatever arrived while it was being built."""
        waiting, self._before_ready = self._before_ready or [], None
        self.push(frame)
        for early in waiting:
            self.push_framed(early)

    def deliver(self, room_id: int, seq: int | None, data: bytes) -> None:
        """Queue a room frame (wire bytes), in seq order and at most once per seq."""
        if seq is not None:
            held = self.held.get(room_id) if self.held else None
            if held is not None:
                if len(held) >= MAX_QUEUED_FRAMES:  # caught up too slowly: same bound
                    self.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume")
                    return
                held.append((seq, data))
                return
            if seq <= self.delivered.get(room_id, 0):
                return
            self.delivered[room_id] = seq
            if room_id not in self.since:
                self.since[room_id] = seq
        self.push_framed(data)

    def hold(self, room_id: int) -> None:
        if self.held is None:
            self.held = {}
        self.held.setdefault(room_id, [])

    def unhold(self, room_id: int) -> list[tuple[int, bytes]]:
        """Stop holding a room; returns the frames that were held for it."""
        if not self.held:
            return []
        held = self.held.pop(room_id, [])
        if not self.held:
            self.held = None
        return held

    def release(self, room_id: int, caught_up_to: int) -> None:
        """Stop holding a room: send the held frames that came after the catch-up."""
        held = self.unhold(room_id)
        self.delivered[room_id] = max(self.delivered.get(room_id, 0), caught_up_to)
        self.since.setdefault(room_id, caught_up_to + 1)
        for seq, data in sorted(held, key=lambda item: item[0]):
            self.deliver(room_id, seq, data)

    def flush(self) -> None:
        """Write everything queued in one go, unless the socket's buffer is full."""
        self._due = False
        queue = self._queue
        if not queue or self._close_code is not None or self.lost:
            return
        if self._socket.write_paused:
            return  # on_writable flushes when the buffer has drained
        data = queue[0] if len(queue) == 1 else b"".join(queue)
        self.writes += 1
        self.frames_sent += len(queue)
        self._queue = []
        self._queued_bytes = 0
        self._socket.write(data)
        if self._waiters:
            self._wake()

    def on_writable(self) -> None:
        """The socket's buffer drained below its low-water mark."""
        self.flush()
        if self._waiters:
            self._wake()

    def on_lost(self) -> None:
        """The socket is gone: drop what is queued; a resume recovers it."""
        self.lost = True
        self._queue = []
        self._queued_bytes = 0
        self._wake()

    async def drained(self) -> None:
        """Wait until the queue is below the low-water mark and the socket takes more."""
        while (
            self._queued_bytes > LOW_WATER_BYTES or self._socket.write_paused
        ) and not self.closing:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def close(self, code: int, reason: str = "") -> None:
        """Close with ``code``: frames still queued are dropped, a resume recovers them."""
        if self._close_code is not None:
            return
        self._close_code = code
        self._queue = []
        self._queued_bytes = 0
        self._wake()
        if not self.lost:
            self._socket.close(code, reason)
