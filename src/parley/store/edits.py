"""Editing and deleting messages. A delete leaves a tombstone: the seq is never reused."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.batch import Mentioned
from parley.store.mentions import clear_mentions, store_mentions
from parley.store.schema import message_files, message_previews, messages, reactions


class EditStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def edit(
        self,
        message_id: int,
        room_id: int,
        seq: int,
        body: str,
        edited_at: str,
        mention_names: tuple[str, ...],
        mentions_room: bool,
    ) -> bool:
        """Replace the body (and its mentions) of a message not deleted; False otherwise."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                messages.update()
                .where(messages.c.id == message_id, messages.c.deleted_at.is_(None))
                .values(body=body, edited_at=edited_at, mentions_room=mentions_room)
            )
            if not result.rowcount:
                return False
            await clear_mentions(conn, message_id)
            await store_mentions(conn, [Mentioned(message_id, room_id, seq, mention_names)])
        return True

    async def delete(self, message_id: int, deleted_at: str) -> bool:
        """Make the message a tombstone (empty body, no files, reactions or mentions).

        Unlinking its files also ends members' access to them through this message.

        False if it already was one.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                messages.update()
                .where(messages.c.id == message_id, messages.c.deleted_at.is_(None))
                .values(body="", file_names=None, deleted_at=deleted_at, mentions_room=False)
            )
            if not result.rowcount:
                return False
            await clear_mentions(conn, message_id)
            await conn.execute(reactions.delete().where(reactions.c.message_id == message_id))
            await conn.execute(
                message_files.delete().where(message_files.c.message_id == message_id)
            )
            await conn.execute(
                message_previews.delete().where(message_previews.c.message_id == message_id)
            )
        return True
