"""Reading and writing messages. Writes go through the group committer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import AppendOutcome, Message, NewMessage, User
from parley.store.files import attachments_of
from parley.store.mentions import mentions_for
from parley.store.previews import previews_for
from parley.store.reactions import reactions_for
from parley.store.replies import quotes_for
from parley.store.schema import messages, users
from parley.store.writer import GroupCommitter

MESSAGE_WITH_AUTHOR = sa.select(
    messages,
    users.c.username,
    users.c.display_name,
    users.c.created_at.label("author_created_at"),
).join(users, users.c.id == messages.c.author_id)


def _summary_query(root_ids: Iterable[int]) -> sa.Select[Any]:
    return (
        sa.select(
            messages.c.thread_root_id,
            sa.func.count().label("reply_count"),
            sa.func.max(messages.c.created_at).label("last_reply_at"),
        )
        .where(messages.c.thread_root_id.in_(list(root_ids)), messages.c.deleted_at.is_(None))
        .group_by(messages.c.thread_root_id)
    )


async def summaries_for(conn: AsyncConnection, root_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{root id: {"reply_count", "last_reply_at"}} of the roots among ``root_ids`` with
    replies (deleted replies not counted), in one query."""
    if not root_ids:
        return {}
    return {
        r.thread_root_id: {"reply_count": r.reply_count, "last_reply_at": r.last_reply_at}
        for r in await conn.execute(_summary_query(root_ids))
    }


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        room_id=row.room_id,
        seq=row.seq,
        author=User(row.author_id, row.username, row.display_name, row.author_created_at),
        body=row.body,
        created_at=row.created_at,
        edited_at=row.edited_at,
        client_id=row.client_id,
        reply_to=row.reply_to,
        mentions_room=bool(row.mentions_room),
        deleted=row.deleted_at is not None,
        thread_root_id=row.thread_root_id,
        also_to_room=bool(row.also_to_room),
    )


async def decorated(conn: AsyncConnection, rows: Sequence[Any]) -> list[Message]:
    """Messages from rows with their files, reactions, mentions, quotes, threads, previews.

    One query per kind for the whole page, never one per message.
    """
    found = [message_from_row(r) for r in rows]
    if not found:
        return found
    ids = [m.id for m in found]
    files = await attachments_of(conn, ids)
    reactions = await reactions_for(conn, ids)
    mentions = await mentions_for(conn, ids)
    quotes = await quotes_for(conn, {m.reply_to for m in found if m.reply_to is not None})
    # Thread replies have no thread of their own (threads are one level deep).
    threads = await summaries_for(conn, [m.id for m in found if m.thread_root_id is None])
    previews = await previews_for(conn, ids)
    for message in found:
        message.attachments = files.get(message.id, [])
        message.reactions = reactions.get(message.id, {})
        message.mentions = mentions.get(message.id, [])
        if message.reply_to is not None:
            message.reply = quotes.get(message.reply_to)
        message.thread = threads.get(message.id)
        message.preview = previews.get(message.id)
    return found


class MessageStore:
    def __init__(self, engine: AsyncEngine, writer: GroupCommitter) -> None:
        self._engine = engine
        self.writer = writer

    def append(self, item: NewMessage) -> asyncio.Future[AppendOutcome]:
        """Queue ``item`` for storing; the future resolves once it is committed."""
        return self.writer.submit(item)

    async def page(
        self, room_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        """A page of a room's messages, always in ascending seq.

        ``after_seq``: the earliest ``limit`` above it; otherwise the latest ``limit``
        below ``before_seq`` (or overall).
        """
        query = MESSAGE_WITH_AUTHOR.where(messages.c.room_id == room_id)
        if after_seq is not None:
            query = query.where(messages.c.seq > after_seq)
            if before_seq is not None:
                query = query.where(messages.c.seq < before_seq)
            query = query.order_by(messages.c.seq).limit(limit)
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
                return await decorated(conn, rows)
        if before_seq is not None:
            query = query.where(messages.c.seq < before_seq)
        query = query.order_by(messages.c.seq.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            return await decorated(conn, rows[::-1])

    async def get(self, message_id: int) -> Message | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(MESSAGE_WITH_AUTHOR.where(messages.c.id == message_id))
            ).first()
            return (await decorated(conn, [row]))[0] if row else None

    async def by_client_id(self, author_id: int, client_id: str) -> Message | None:
        query = MESSAGE_WITH_AUTHOR.where(
            messages.c.author_id == author_id, messages.c.client_id == client_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
            return (await decorated(conn, [row]))[0] if row else None

    async def quote(self, message_id: int) -> dict[str, Any] | None:
        """The reply quote of one message (for a reply just stored)."""
        async with self._engine.connect() as conn:
            return (await quotes_for(conn, {message_id})).get(message_id)
