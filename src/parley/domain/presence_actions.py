"""Presence as others see it: a user's first connection tells everyone who shares a room
with them that they are online, their last one that they are offline.

The counting is the tracker's (domain.presence's LocalPresence, or RedisPresence across
processes); this module turns its first and last into ``presence`` frames.
"""

from __future__ import annotations

import contextlib

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context


async def connected(ctx: Context, user_id: int) -> None:
    """A connection of the user opened: the first one tells their rooms they are online."""
    if await ctx.presence.connected(user_id):
        await _announce(ctx, user_id, "online")


async def disconnected(ctx: Context, user_id: int) -> None:
    """A connection of the user closed: the last one tells their rooms they are offline."""
    if await ctx.presence.disconnected(user_id):
        # The socket is gone already: there is no one to tell of a failure here.
        with contextlib.suppress(Exception):
            await _announce(ctx, user_id, "offline")


async def went_offline(ctx: Context, user_ids: list[int]) -> None:
    """Users whose last connections were in a process that stopped answering (shared
    presence reports them): their rooms hear they are offline."""
    for user_id in user_ids:
        await _announce(ctx, user_id, "offline")


async def _announce(ctx: Context, user_id: int, status: frames.PresenceStatus) -> None:
    watchers = await ctx.store.memberships.co_member_ids(user_id)
    watchers.discard(user_id)
    if watchers:
        frame = frames.presence(user_id, status)
        await ctx.bus.publish(Event(kind="users", user_ids=sorted(watchers), payload=frame))
