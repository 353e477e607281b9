"""Pinned messages: a room's short list of messages worth keeping in view.

In a channel the owner and admins pin and unpin (the people who already run the room);
in a direct-message conversation both people may. Members get a ``pin`` frame.
"""

from __future__ import annotations

from typing import Any

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context
from parley.domain.edits import check_writable
from parley.domain.messaging import access_message
from parley.domain.models import Room, User
from parley.domain.ratelimit import spend
from parley.domain.rooms import MANAGER_ROLES, access_room
from parley.errors import Conflict, Forbidden

# Pins per room: a list to glance at, not a second timeline.
MAX_PINS = 100


def may_pin(room: Room, role: str | None) -> bool:
    return room.kind != "channel" or role in MANAGER_ROLES


async def set_pinned(ctx: Context, user: User, message_id: int, *, pinned: bool) -> None:
    """Pin or unpin a message; repeats change nothing and send nothing.

    Raises NotFound (missing message or not a member), Forbidden (a member of a channel
    who is not its owner or an admin: ``forbidden``; archived room), Conflict (deleted
    message, ``too_many_pins``), RateLimited.
    """
    await spend(ctx.limits.sends, user.id, "You are pinning too fast.")
    message, room, role = await access_message(ctx, user, message_id)
    if not may_pin(room, role):
        raise Forbidden("Only the room's owner or admins can pin messages.", code="forbidden")
    check_writable(room)
    if pinned:
        if message.deleted:
            raise Conflict("This message was deleted.", code="message_deleted")
        if await ctx.store.pins.count(room.id) >= MAX_PINS:
            raise Conflict(f"A room has at most {MAX_PINS} pins.", code="too_many_pins")
        changed = await ctx.store.pins.pin(message.id, room.id, user.id, ctx.clock())
    else:
        changed = await ctx.store.pins.unpin(message.id)
    if changed:
        frame = frames.pin(room.id, message.id, pinned, user.id)
        await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))


async def pins(ctx: Context, user: User, room_id: int) -> list[dict[str, Any]]:
    """The room's pinned messages (members only), newest pin first."""
    await access_room(ctx, user, room_id)
    return [
        {"message": p.message, "pinned_by": p.by, "pinned_at": p.at}
        for p in await ctx.store.pins.of_room(room_id)
    ]
