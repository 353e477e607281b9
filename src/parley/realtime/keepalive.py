"""One timer for the keepalive pings of every WebSocket, instead of one per connection.

Between two pings an idle connection waits ``ping_interval`` seconds; an asyncio timer
per connection for that wait is ~550 bytes (the handle, the loop's timer, the bound
callback), a third of what the socket itself costs. Here a connection due at ``t`` is
an entry in the slot of ``t`` rounded up to the next tick, and one timer per loop wakes
at the earliest slot and calls every connection in it. A tick is a twentieth of the
interval (at most TICK_MAX_S), so a ping goes out at most 5% late; the wait for the
pong (seconds, once per interval) keeps its own precise timer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from typing import Protocol

log = logging.getLogger(__name__)

TICK_MAX_S = 1.0
TICKS_PER_INTERVAL = 20


class Due(Protocol):
    """A connection whose ping the wheel sends."""

    def keepalive_due(self) -> None: ...


class KeepaliveWheel:
    """Calls ``keepalive_due`` on each connection once its time has come."""

    __slots__ = ("_armed", "_loop", "_slots", "_tick", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, tick: float) -> None:
        self._loop = loop
        self._tick = tick
        # Slot number (due time // tick, rounded up) -> the connections due then.
        self._slots: dict[int, dict[Due, None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._armed = 0  # the slot the timer is set for

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._slots.values())

    def add(self, who: Due, delay: float) -> int:
        """Call ``who`` in ``delay`` seconds (rounded up to a tick); returns its slot."""
        key = math.ceil((self._loop.time() + delay) / self._tick)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = {}
            if self._timer is None or key < self._armed:
                self._arm(key)
        slot[who] = None
        return key

    def discard(self, who: Due, key: int) -> None:
        slot = self._slots.get(key)
        if slot is not None:
            slot.pop(who, None)
            if not slot:
                del self._slots[key]
                if not self._slots:
                    self._retire()

    def _arm(self, key: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed = key
        self._timer = self._loop.call_at(key * self._tick, self._run)

    def _run(self) -> None:
        self._timer = None
        # The loop's clock may read a hair before the time it was woken for.
        last = max(self._armed, math.floor(self._loop.time() / self._tick))
        for key in sorted(key for key in self._slots if key <= last):
            for who in self._slots.pop(key):
                try:
                    who.keepalive_due()
                except Exception:
                    log.exception("a keepalive ping failed")
        if self._slots:
            self._arm(min(self._slots))
        else:
            self._retire()

    def _retire(self) -> None:
        """Nothing is due: stop, and leave the registry (the next add makes a new one)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wheels = _wheels.get(self._loop)
        if wheels is not None and wheels.get(self._tick) is self:
            del wheels[self._tick]
            if not wheels:
                del _wheels[self._loop]


# Per loop, per tick (servers with other intervals may share a loop).
_wheels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, KeepaliveWheel]] = (
    weakref.WeakKeyDictionary()
)


def wheel_for(loop: asyncio.AbstractEventLoop, interval: float) -> KeepaliveWheel:
    """The wheel of ``loop`` for pings every ``interval`` seconds (made on first use)."""
    tick = min(TICK_MAX_S, interval / TICKS_PER_INTERVAL)
    wheels = _wheels.setdefault(loop, {})
    wheel = wheels.get(tick)
    if wheel is None:
        wheel = wheels[tick] = KeepaliveWheel(loop, tick)
    return wheel
