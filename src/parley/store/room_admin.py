"""Room administration: bans and archiving (renames and roles use RoomStore)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import memberships, room_bans, rooms


class RoomAdminStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ban(self, room_id: int, user_id: int, banned_by: int, now: str) -> None:
        """Ban the user from the room (removing their membership) in one transaction."""
        async with self._engine.begin() as conn:
            await conn.execute(
                memberships.delete().where(
                    memberships.c.room_id == room_id, memberships.c.user_id == user_id
                )
            )
            exists = (
                await conn.execute(
                    sa.select(room_bans.c.user_id).where(
                        room_bans.c.room_id == room_id, room_bans.c.user_id == user_id
                    )
                )
            ).first()
            if exists is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            room_bans.insert().values(
                                room_id=room_id,
                                user_id=user_id,
                                banned_by=banned_by,
                                created_at=now,
                            )
                        )
                except IntegrityError:
                    pass  # banned by someone else a moment ago: the same outcome

    async def unban(self, room_id: int, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                room_bans.delete().where(
                    room_bans.c.room_id == room_id, room_bans.c.user_id == user_id
                )
            )
        return bool(result.rowcount)

    async def is_banned(self, room_id: int, user_id: int) -> bool:
        query = sa.select(room_bans.c.user_id).where(
            room_bans.c.room_id == room_id, room_bans.c.user_id == user_id
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def banned_ids(self, room_id: int) -> list[int]:
        query = sa.select(room_bans.c.user_id).where(room_bans.c.room_id == room_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def set_archived(self, room_id: int, archived_at: str | None) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                rooms.update().where(rooms.c.id == room_id).values(archived_at=archived_at)
            )
