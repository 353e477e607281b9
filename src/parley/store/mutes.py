"""Muting a room: a per-member flag the client reads from the room list."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import memberships


class MuteStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def set_muted(self, room_id: int, user_id: int, muted: bool) -> bool:
        """Set the member's mute flag; False if they are not a member."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
                .values(muted=muted)
            )
        return bool(result.rowcount)
