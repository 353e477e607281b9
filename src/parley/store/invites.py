"""Invite links: a room, an expiry, and only a hash of the code."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import room_invites


class InviteStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self, code_hash: str, room_id: int, created_by: int, created_at: str, expires_at: str
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                room_invites.insert().values(
                    code_hash=code_hash,
                    room_id=room_id,
                    created_by=created_by,
                    created_at=created_at,
                    expires_at=expires_at,
                )
            )

    async def lookup(self, code_hash: str) -> tuple[int, str, int] | None:
        """(room id, expires_at, created_by) of an invite, or None if unknown."""
        query = sa.select(
            room_invites.c.room_id, room_invites.c.expires_at, room_invites.c.created_by
        ).where(room_invites.c.code_hash == code_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.room_id, row.expires_at, row.created_by)
