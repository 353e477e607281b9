"""Read receipts: the per-person setting, and a small room's read markers."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import memberships, users


class Reader(NamedTuple):
    user_id: int
    read_seq: int
    receipts: bool  # their setting


class ReceiptStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def enabled(self, user_id: int) -> bool:
        query = sa.select(users.c.read_receipts).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            return bool((await conn.execute(query)).scalar_one_or_none())

    async def set_enabled(self, user_id: int, enabled: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(read_receipts=enabled)
            )

    async def readers(self, room_id: int, limit: int) -> list[Reader] | None:
        """Every member's read marker and setting; None past ``limit`` members."""
        query = (
            sa.select(memberships.c.user_id, memberships.c.read_seq, users.c.read_receipts)
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.room_id == room_id)
            .order_by(memberships.c.user_id)
            .limit(limit + 1)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        if len(rows) > limit:
            return None
        return [Reader(r.user_id, r.read_seq, bool(r.read_receipts)) for r in rows]
