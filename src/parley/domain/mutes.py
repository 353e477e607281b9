"""Muting a room: the room list says ``muted``; the client decides what that silences."""

from __future__ import annotations

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context
from parley.domain.models import User
from parley.domain.rooms import access_room


async def set_muted(ctx: Context, user: User, room_id: int, muted: bool) -> None:
    """Mute or unmute a room for the user; their other tabs get a ``room_muted`` frame."""
    await access_room(ctx, user, room_id)
    await ctx.store.mutes.set_muted(room_id, user.id, muted)
    frame = frames.room_muted(room_id, muted)
    await ctx.bus.publish(Event(kind="users", user_ids=[user.id], payload=frame))
