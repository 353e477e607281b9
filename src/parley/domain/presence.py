"""Who is online: a user is online while at least one of their connections is open.

The trackers (LocalPresence here, RedisPresence in parley.bus) count connections; the
actions below turn a count's first and last into a ``presence`` frame for everyone who
shares a room with the user.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import TYPE_CHECKING, Protocol

import orjson

from parley.bus.base import Event

if TYPE_CHECKING:
    from parley.domain.context import Context  # which imports Presence from here


class Presence(Protocol):
    async def connected(self, user_id: int) -> bool: ...

    async def disconnected(self, user_id: int) -> bool: ...

    async def online(self, user_ids: list[int]) -> set[int]: ...

    async def close(self) -> None: ...


class LocalPresence:
    """Presence for one process (the Redis variant shares it between processes)."""

    def __init__(self) -> None:
        self._connections: Counter[int] = Counter()

    async def connected(self, user_id: int) -> bool:
        """Count a new connection; True if the user just came online."""
        self._connections[user_id] += 1
        return self._connections[user_id] == 1

    async def disconnected(self, user_id: int) -> bool:
        """Count a closed connection; True if the user just went offline."""
        self._connections[user_id] -= 1
        if self._connections[user_id] <= 0:
            del self._connections[user_id]
            return True
        return False

    async def online(self, user_ids: list[int]) -> set[int]:
        return {uid for uid in user_ids if uid in self._connections}

    async def close(self) -> None:
        self._connections.clear()


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


async def _announce(ctx: Context, user_id: int, status: str) -> None:
    watchers = await ctx.store.rooms.co_member_ids(user_id)
    watchers.discard(user_id)
    if watchers:
        frame = orjson.dumps({"type": "presence", "user_id": user_id, "status": status})
        await ctx.bus.publish(Event(kind="users", user_ids=sorted(watchers), payload=frame))
