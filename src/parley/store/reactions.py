"""Reactions: who reacted to which message with which emoji."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.store.schema import reactions


async def reactions_for(conn: AsyncConnection, message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{message id: {emoji: {"count", "users"}}} for a page of messages, in one query.

    Emoji keep the order in which they were first used; users the order they reacted.
    """
    if not message_ids:
        return {}
    query = (
        sa.select(reactions.c.message_id, reactions.c.emoji, reactions.c.user_id)
        .where(reactions.c.message_id.in_(message_ids))
        .order_by(reactions.c.message_id, reactions.c.created_at, reactions.c.user_id)
    )
    found: dict[int, dict[str, Any]] = {}
    for row in await conn.execute(query):
        per_message = found.setdefault(row.message_id, {})
        entry = per_message.setdefault(row.emoji, {"count": 0, "users": []})
        entry["count"] += 1
        entry["users"].append(row.user_id)
    return found


class ReactionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, message_id: int, user_id: int, emoji: str, now: str) -> bool:
        """Add the user's reaction; False if it was already there."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    reactions.insert().values(
                        message_id=message_id, user_id=user_id, emoji=emoji, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        """Remove the user's reaction; False if there was none."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                reactions.delete().where(
                    reactions.c.message_id == message_id,
                    reactions.c.user_id == user_id,
                    reactions.c.emoji == emoji,
                )
            )
        return bool(result.rowcount)
