"""The bus interface and the one event type that travels on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

import orjson

from parley.metrics import BusReadings

EventKind = Literal[
    "room", "users", "join", "leave", "typing", "close_sessions", "close_users", "resync"
]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))


class BadEvent(ValueError):
    """Bytes from the bus that are not an event this version knows."""


@dataclass(slots=True)
class Event:
    """Something every gateway must act on.

    ``kind`` says what: ``room`` delivers ``payload`` to the room's connections (except
    the ``origin`` connection), ``users`` to the connections of ``user_ids``, ``join`` and
    ``leave`` also change which connections follow the room, ``close_sessions`` and
    ``close_users`` end connections, ``resync`` (made by a bus, never published) says
    events may have been lost and rooms must catch up from the database. ``payload`` is
    the frame, encoded once. ``sent_at`` (Unix time of the publish) measures bus lag;
    ``source`` names the publishing bus, so that a process can skip its own echo.
    """

    kind: EventKind
    payload: bytes = b""
    room_id: int | None = None
    user_ids: list[int] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    origin: str | None = None
    seq: int | None = None
    sent_at: float = 0.0
    source: str | None = None

    def encode(self) -> bytes:
        """Header as JSON, a newline, then the payload bytes untouched."""
        header = orjson.dumps(
            {
                "kind": self.kind,
                "room_id": self.room_id,
                "user_ids": self.user_ids,
                "session_ids": self.session_ids,
                "origin": self.origin,
                "seq": self.seq,
                "sent_at": self.sent_at,
                "source": self.source,
            }
        )
        return header + b"\n" + self.payload

    @classmethod
    def decode(cls, data: bytes) -> Event:
        header, _, payload = data.partition(b"\n")
        fields = orjson.loads(header)
        if fields.get("kind") not in EVENT_KINDS:
            # A newer process in a rolling upgrade may publish kinds this one lacks.
            raise BadEvent(f"unknown event kind {fields.get('kind')!r}")
        return cls(payload=payload, **fields)


EventHandler = Callable[[Event], None]


class Bus(Protocol):
    """Carries events to every Parley process (or only this one, for LocalBus).

    ``publish_nowait`` delivers to this process's handler before it returns and sends
    the event on to the other processes in the order of the calls. It never raises for
    a transport failure: the event then reaches this process only, and the other
    processes catch up from the database. ``publish`` is the same for async callers.
    """

    async def start(self, handler: EventHandler) -> None: ...

    def publish_nowait(self, event: Event) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def close(self) -> None: ...

    def readings(self) -> BusReadings:
        """Its counters, for /metrics."""
        ...
