"""Pinned messages (per room, seen by its members) and saved messages (private to a person)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import Message
from parley.store.messages import MESSAGE_WITH_AUTHOR, decorated
from parley.store.schema import memberships, messages, pins, saved_messages


class Marked(NamedTuple):
    """A pinned or saved message, with who marked it and when."""

    message: Message
    by: int
    at: str


class PinStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, room_id: int) -> int:
        query = sa.select(sa.func.count()).where(pins.c.room_id == room_id)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def pin(self, message_id: int, room_id: int, user_id: int, now: str) -> bool:
        """Pin the message; False if it already was."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    pins.insert().values(
                        message_id=message_id, room_id=room_id, pinned_by=user_id, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def unpin(self, message_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(pins.delete().where(pins.c.message_id == message_id))
        return bool(result.rowcount)

    async def of_room(self, room_id: int) -> list[Marked]:
        """The room's pinned messages, newest pin first (deleted messages left out)."""
        query = (
            MESSAGE_WITH_AUTHOR.add_columns(
                pins.c.pinned_by.label("marked_by"), pins.c.created_at.label("marked_at")
            )
            .join(pins, pins.c.message_id == messages.c.id)
            .where(pins.c.room_id == room_id, messages.c.deleted_at.is_(None))
            .order_by(pins.c.created_at.desc(), messages.c.id.desc())
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            found = await decorated(conn, rows)
        return [Marked(m, r.marked_by, r.marked_at) for m, r in zip(found, rows, strict=True)]


class SavedStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, user_id: int) -> int:
        query = sa.select(sa.func.count()).where(saved_messages.c.user_id == user_id)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def save(self, user_id: int, message_id: int, now: str) -> bool:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    saved_messages.insert().values(
                        user_id=user_id, message_id=message_id, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def unsave(self, user_id: int, message_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                saved_messages.delete().where(
                    saved_messages.c.user_id == user_id, saved_messages.c.message_id == message_id
                )
            )
        return bool(result.rowcount)

    async def of_user(self, user_id: int, limit: int) -> list[Marked]:
        """The user's saved messages, newest first: only those in rooms they are still a
        member of (access is checked now, not when saved), deleted ones left out."""
        query = (
            MESSAGE_WITH_AUTHOR.add_columns(saved_messages.c.created_at.label("marked_at"))
            .join(saved_messages, saved_messages.c.message_id == messages.c.id)
            .join(
                memberships,
                sa.and_(
                    memberships.c.room_id == messages.c.room_id,
                    memberships.c.user_id == saved_messages.c.user_id,
                ),
            )
            .where(saved_messages.c.user_id == user_id, messages.c.deleted_at.is_(None))
            .order_by(saved_messages.c.created_at.desc(), messages.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            found = await decorated(conn, rows)
        return [Marked(m, user_id, r.marked_at) for m, r in zip(found, rows, strict=True)]
