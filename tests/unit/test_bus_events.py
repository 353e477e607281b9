"""Events on the bus: what one process publishes, another reads back the same."""

from __future__ import annotations

import orjson
import pytest

from parley.bus.base import EVENT_KINDS, BadEvent, Event


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_every_kind_survives_the_trip(kind: str) -> None:
    event = Event(kind=kind, payload=b'{"type":"pong"}\n', room_id=3, user_ids=[1], seq=9)  # type: ignore[arg-type]
    assert Event.decode(event.encode()) == event


def test_an_unknown_kind_is_refused_not_applied() -> None:
    header = orjson.dumps({"kind": "teleport", "room_id": 3})
    with pytest.raises(BadEvent, match="teleport"):
        Event.decode(header + b"\n{}")
