"""Rooms and direct-message rooms: creating, finding, listing and changing them.

Who is in a room, with which role and read marker, is :mod:`parley.store.memberships`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import Room
from parley.store.schema import memberships, rooms

ROOM_COLUMNS = (
    rooms.c.id,
    rooms.c.name,
    rooms.c.visibility,
    rooms.c.topic,
    rooms.c.created_at,
    rooms.c.last_seq,
    rooms.c.kind,
    rooms.c.archived_at,
    rooms.c.retention_days,
)


def room_from_row(row: Any) -> Room:
    return Room(
        id=row.id,
        name=row.name,
        visibility=row.visibility,
        topic=row.topic,
        created_at=row.created_at,
        last_seq=row.last_seq,
        kind=row.kind,
        archived_at=row.archived_at,
        retention_days=row.retention_days,
    )


def group_key(member_ids: list[int]) -> str:
    """A group conversation's key: a digest of its sorted member ids (fits ``dm_key``)."""
    canonical = ",".join(str(i) for i in sorted(set(member_ids)))
    return "g:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


class RoomStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self, name: str, visibility: str, topic: str, creator_id: int, created_at: str
    ) -> Room:
        """Create a room with its creator as owner and first member, in one transaction."""
        async with self._engine.begin() as conn:
            room_id = (
                await conn.execute(
                    rooms.insert()
                    .values(
                        name=name,
                        visibility=visibility,
                        topic=topic,
                        kind="channel",
                        created_by=creator_id,
                        created_at=created_at,
                    )
                    .returning(rooms.c.id)
                )
            ).scalar_one()
            await conn.execute(
                memberships.insert().values(
                    room_id=room_id, user_id=creator_id, role="owner", joined_at=created_at
                )
            )
        return Room(room_id, name, visibility, topic, created_at, 0, "channel")

    async def get_or_create_dm(self, me: int, other: int, created_at: str) -> tuple[Room, bool]:
        """The one direct-message room of two users; True if it was created now."""
        low, high = sorted((me, other))
        return await self._conversation("dm", f"{low}:{high}", me, [low, high], created_at)

    async def group_of(self, member_ids: list[int]) -> Room | None:
        """The group conversation of exactly these people, if there is one."""
        return await self._dm_by_key(group_key(member_ids))

    async def get_or_create_group(
        self, creator: int, member_ids: list[int], created_at: str
    ) -> tuple[Room, bool]:
        """The one group conversation of exactly ``member_ids``; True if created now.

        Everyone in it is a plain member: a conversation has no one running it.
        """
        key = group_key(member_ids)
        return await self._conversation("group", key, creator, member_ids, created_at)

    async def _conversation(
        self, kind: str, key: str, creator: int, member_ids: list[int], created_at: str
    ) -> tuple[Room, bool]:
        """The one conversation (``dm`` or ``group``) under ``key``, made now if none."""
        existing = await self._dm_by_key(key)
        if existing is not None:
            return existing, False
        try:
            async with self._engine.begin() as conn:
                room_id = (
                    await conn.execute(
                        rooms.insert()
                        .values(
                            name="",
                            visibility="private",
                            topic="",
                            kind=kind,
                            dm_key=key,
                            created_by=creator,
                            created_at=created_at,
                        )
                        .returning(rooms.c.id)
                    )
                ).scalar_one()
                await conn.execute(
                    memberships.insert(),
                    [
                        {
                            "room_id": room_id,
                            "user_id": uid,
                            "role": "member",
                            "joined_at": created_at,
                        }
                        for uid in sorted(set(member_ids))
                    ],
                )
        except IntegrityError:
            # Both sides opened it at the same moment: the other insert won.
            raced = await self._dm_by_key(key)
            if raced is None:
                raise
            return raced, False
        return Room(room_id, "", "private", "", created_at, 0, kind), True

    async def group_to_room(self, room_id: int, name: str, *, owner_if_gone: int) -> int:
        """Make a group conversation a private room named ``name``, owned by the person
        who started it (or ``owner_if_gone`` when they are no longer in it); returns the
        owner's id."""
        async with self._engine.begin() as conn:
            starter = (
                await conn.execute(sa.select(rooms.c.created_by).where(rooms.c.id == room_id))
            ).scalar_one()
            await conn.execute(
                rooms.update()
                .where(rooms.c.id == room_id)
                .values(kind="channel", visibility="private", dm_key=None, name=name)
            )
            made = await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == starter)
                .values(role="owner")
            )
            if made.rowcount:
                return int(starter)
            await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == owner_if_gone)
                .values(role="owner")
            )
            return owner_if_gone

    async def _dm_by_key(self, dm_key: str) -> Room | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(*ROOM_COLUMNS).where(rooms.c.dm_key == dm_key))
            ).first()
        return room_from_row(row) if row else None

    async def get(self, room_id: int) -> Room | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(*ROOM_COLUMNS).where(rooms.c.id == room_id))
            ).first()
        return room_from_row(row) if row else None

    async def public_rooms(self, limit: int, name_contains: str = "") -> list[tuple[Room, int]]:
        """Public rooms, most members first, then most messages, then newest; optionally
        only those whose name contains a text."""
        member_count = (
            sa.select(sa.func.count()).where(memberships.c.room_id == rooms.c.id).scalar_subquery()
        )
        query = (
            sa.select(*ROOM_COLUMNS, member_count.label("member_count"))
            .where(rooms.c.visibility == "public", rooms.c.kind == "channel")
            .order_by(member_count.desc(), rooms.c.last_seq.desc(), rooms.c.id.desc())
            .limit(limit)
        )
        if name_contains:
            escaped = (
                name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            query = query.where(sa.func.lower(rooms.c.name).like(f"%{escaped}%", escape="\\"))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(room_from_row(r), r.member_count) for r in rows]

    async def update(self, room_id: int, **values: str | int | None) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(rooms.update().where(rooms.c.id == room_id).values(**values))
