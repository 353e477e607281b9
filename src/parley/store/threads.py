"""Threads: replies under a root message, who follows each thread and how far they read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import Message
from parley.store.messages import MESSAGE_WITH_AUTHOR, decorated, summaries_for
from parley.store.schema import memberships, messages, thread_follows


class RootInfo(NamedTuple):
    """What a reply needs to know about the message it would start or continue a thread on."""

    room_id: int
    thread_root_id: int | None
    deleted: bool


class FollowedThread(NamedTuple):
    root: Message
    unread: int
    read_seq: int


class ThreadStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def root_info(self, message_id: int) -> RootInfo | None:
        query = sa.select(
            messages.c.room_id, messages.c.thread_root_id, messages.c.deleted_at
        ).where(messages.c.id == message_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return RootInfo(row.room_id, row.thread_root_id, row.deleted_at is not None)

    async def root_author(self, root_id: int) -> int | None:
        query = sa.select(messages.c.author_id).where(messages.c.id == root_id)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def summary(self, root_id: int) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            return (await summaries_for(conn, [root_id])).get(root_id)

    async def replies(
        self, root_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        """A page of a thread's replies in ascending seq (as MessageStore.page)."""
        query = MESSAGE_WITH_AUTHOR.where(messages.c.thread_root_id == root_id)
        if before_seq is not None:
            query = query.where(messages.c.seq < before_seq)
        if after_seq is not None:
            query = query.where(messages.c.seq > after_seq).order_by(messages.c.seq).limit(limit)
            async with self._engine.connect() as conn:
                return await decorated(conn, (await conn.execute(query)).all())
        query = query.order_by(messages.c.seq.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return await decorated(conn, (await conn.execute(query)).all()[::-1])

    async def follow(
        self, root_id: int, room_id: int, user_ids: Iterable[int], now: str, read_seq: int = 0
    ) -> None:
        """Make each user a follower of the thread (those already following stay as they are)."""
        wanted = set(user_ids)
        if not wanted:
            return
        try:
            async with self._engine.begin() as conn:
                present = set(
                    (
                        await conn.execute(
                            sa.select(thread_follows.c.user_id).where(
                                thread_follows.c.root_id == root_id,
                                thread_follows.c.user_id.in_(wanted),
                            )
                        )
                    ).scalars()
                )
                rows = [
                    {
                        "user_id": uid,
                        "root_id": root_id,
                        "room_id": room_id,
                        "read_seq": read_seq,
                        "created_at": now,
                    }
                    for uid in sorted(wanted - present)
                ]
                if rows:
                    await conn.execute(thread_follows.insert(), rows)
        except IntegrityError:
            return  # followed at the same moment by another request: followed all the same

    async def unfollow(self, root_id: int, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                thread_follows.delete().where(
                    thread_follows.c.root_id == root_id, thread_follows.c.user_id == user_id
                )
            )
        return bool(result.rowcount)

    async def follow_state(self, root_id: int, user_id: int) -> int | None:
        """The user's read marker in the thread, or None if they do not follow it."""
        query = sa.select(thread_follows.c.read_seq).where(
            thread_follows.c.root_id == root_id, thread_follows.c.user_id == user_id
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def mark_read(self, root_id: int, user_id: int, seq: int) -> int | None:
        """Move the user's marker in the thread forward to ``seq``; the marker, or None
        if they do not follow it."""
        async with self._engine.begin() as conn:
            await conn.execute(
                thread_follows.update()
                .where(
                    thread_follows.c.root_id == root_id,
                    thread_follows.c.user_id == user_id,
                    thread_follows.c.read_seq < seq,
                )
                .values(read_seq=seq)
            )
            return (
                await conn.execute(
                    sa.select(thread_follows.c.read_seq).where(
                        thread_follows.c.root_id == root_id, thread_follows.c.user_id == user_id
                    )
                )
            ).scalar_one_or_none()

    async def followed(self, user_id: int, limit: int) -> list[FollowedThread]:
        """The threads the user follows in rooms they are (still) a member of, newest
        reply first, each with its root (and summary) and unread replies from others."""
        reply = messages.alias("reply")
        last = (
            sa.select(sa.func.max(reply.c.created_at))
            .where(reply.c.thread_root_id == thread_follows.c.root_id)
            .scalar_subquery()
        )
        unread = (
            sa.select(sa.func.count())
            .where(
                reply.c.thread_root_id == thread_follows.c.root_id,
                reply.c.seq > thread_follows.c.read_seq,
                reply.c.author_id != user_id,
                reply.c.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        query = (
            MESSAGE_WITH_AUTHOR.add_columns(
                thread_follows.c.read_seq.label("follow_read_seq"), unread.label("unread")
            )
            .join(thread_follows, thread_follows.c.root_id == messages.c.id)
            # Access is checked here, at read time: a room left is a thread gone.
            .join(
                memberships,
                sa.and_(
                    memberships.c.room_id == thread_follows.c.room_id,
                    memberships.c.user_id == thread_follows.c.user_id,
                ),
            )
            .where(thread_follows.c.user_id == user_id)
            .order_by(sa.func.coalesce(last, messages.c.created_at).desc(), messages.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            roots = await decorated(conn, rows)
        return [
            FollowedThread(root, row.unread, row.follow_read_seq)
            for root, row in zip(roots, rows, strict=True)
        ]
