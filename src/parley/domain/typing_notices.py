"""Typing notices: "ana is typing" shown to a room's other members.

A client sends one per keystroke; the room hears at most one per room every
TYPING_INTERVAL_S from each connection, which is as often as the notice is redrawn.
"""

from __future__ import annotations

import time
from collections.abc import Container

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context
from parley.domain.models import User
from parley.errors import NotFound

TYPING_INTERVAL_S = 2.0


async def typing(
    ctx: Context,
    user: User,
    room_id: int,
    *,
    member_of: Container[int],
    last_sent: dict[int, float],
) -> None:
    """Tell the room's other members that ``user`` is typing, unless this connection
    did so less than TYPING_INTERVAL_S ago (``last_sent``: room id -> when, per connection).

    ``member_of`` is the rooms the connection follows, kept current by join and leave
    events: a notice per keystroke must not cost a query. Raises NotFound for another room.
    """
    if room_id not in member_of:
        raise NotFound("No such room.", code="room_not_found")
    now = time.monotonic()
    if now - last_sent.get(room_id, -TYPING_INTERVAL_S) < TYPING_INTERVAL_S:
        return
    last_sent[room_id] = now
    await ctx.bus.publish(
        Event(
            kind="typing",
            room_id=room_id,
            user_ids=[user.id],
            payload=frames.typing(room_id, user),
        )
    )
