"""Rooms, direct-message rooms and memberships with their read markers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Member, Room, RoomView, User
from parley.store.schema import memberships, message_mentions, messages, rooms, users
from parley.store.users import USER_COLUMNS, user_from_row

ROOM_COLUMNS = (
    rooms.c.id,
    rooms.c.name,
    rooms.c.visibility,
    rooms.c.topic,
    rooms.c.created_at,
    rooms.c.last_seq,
    rooms.c.kind,
    rooms.c.archived_at,
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
    )


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
        dm_key = f"{low}:{high}"
        existing = await self._dm_by_key(dm_key)
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
                            kind="dm",
                            dm_key=dm_key,
                            created_by=me,
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
                        for uid in {low, high}
                    ],
                )
        except IntegrityError:
            # Both users opened the DM at the same moment: the other insert won.
            raced = await self._dm_by_key(dm_key)
            if raced is None:
                raise
            return raced, False
        return Room(room_id, "", "private", "", created_at, 0, "dm"), True

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

    async def role_of(self, room_id: int, user_id: int) -> str | None:
        """The user's role in the room, or None if they are not a member."""
        async with self._engine.connect() as conn:
            return await _role_of(conn, room_id, user_id)

    async def active_role_of(self, room_id: int, user_id: int) -> str | None:
        """The user's role in the room, or None if not a member or the account is disabled.

        The grant behind anything done in someone's name: a resume page sent to them, a
        webhook or invite they made.
        """
        query = (
            sa.select(memberships.c.role)
            .join(users, users.c.id == memberships.c.user_id)
            .where(
                memberships.c.room_id == room_id,
                memberships.c.user_id == user_id,
                users.c.disabled == sa.false(),
            )
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def add_member(self, room_id: int, user_id: int, role: str, joined_at: str) -> bool:
        """Add a member; False if they already were one."""
        try:
            async with self._engine.begin() as conn:
                if await _role_of(conn, room_id, user_id) is not None:
                    return False
                last_seq = (
                    await conn.execute(sa.select(rooms.c.last_seq).where(rooms.c.id == room_id))
                ).scalar_one()
                # A new member starts with everything before they joined marked as read.
                await conn.execute(
                    memberships.insert().values(
                        room_id=room_id,
                        user_id=user_id,
                        role=role,
                        joined_at=joined_at,
                        read_seq=last_seq,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def remove_member(self, room_id: int, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                memberships.delete().where(
                    memberships.c.room_id == room_id, memberships.c.user_id == user_id
                )
            )
        return bool(result.rowcount)

    async def rooms_of(self, user_id: int) -> list[RoomView]:
        """Every room the user is a member of, with read marker and unread count."""
        mine = memberships.alias("mine")
        unread = (
            sa.select(sa.func.count())
            .where(
                messages.c.room_id == rooms.c.id,
                messages.c.seq > mine.c.read_seq,
                messages.c.author_id != user_id,
                messages.c.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        # Unread messages that mention me by name or call "@room" (counted once each).
        named_me = (
            sa.select(message_mentions.c.message_id)
            .where(
                message_mentions.c.message_id == messages.c.id,
                message_mentions.c.user_id == user_id,
            )
            .exists()
        )
        mentions = (
            sa.select(sa.func.count())
            .where(
                messages.c.room_id == rooms.c.id,
                messages.c.seq > mine.c.read_seq,
                messages.c.author_id != user_id,
                messages.c.deleted_at.is_(None),
                sa.or_(messages.c.mentions_room == sa.true(), named_me),
            )
            .scalar_subquery()
        )
        member_count = (
            sa.select(sa.func.count()).where(memberships.c.room_id == rooms.c.id).scalar_subquery()
        )
        query = (
            sa.select(
                *ROOM_COLUMNS,
                mine.c.role,
                mine.c.read_seq,
                mine.c.muted,
                unread.label("unread"),
                mentions.label("mentions"),
                member_count.label("member_count"),
            )
            .join(mine, mine.c.room_id == rooms.c.id)
            .where(mine.c.user_id == user_id)
            .order_by(rooms.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            views = [
                RoomView(
                    id=r.id,
                    name=r.name,
                    visibility=r.visibility,
                    topic=r.topic,
                    created_at=r.created_at,
                    last_seq=r.last_seq,
                    kind=r.kind,
                    role=r.role,
                    read_seq=r.read_seq,
                    unread=r.unread,
                    member_count=r.member_count,
                    mentions=r.mentions,
                    muted=bool(r.muted),
                    archived_at=r.archived_at,
                )
                for r in rows
            ]
            dm_ids = [v.id for v in views if v.kind == "dm"]
            if dm_ids:
                # The other member; in a DM with oneself (one member) that is oneself.
                peers = await conn.execute(
                    sa.select(memberships.c.room_id, *USER_COLUMNS)
                    .join(users, users.c.id == memberships.c.user_id)
                    .where(memberships.c.room_id.in_(dm_ids))
                    .order_by(memberships.c.user_id == user_id)
                )
                by_room: dict[int, User] = {}
                for p in peers:
                    by_room.setdefault(p.room_id, user_from_row(p))
                for view in views:
                    if view.kind == "dm":
                        view.dm_user = by_room.get(view.id)
        return views

    async def room_cursors_of(self, user_id: int) -> list[tuple[int, int]]:
        """(room id, last seq) of each room of the user: the ready frame's list."""
        query = (
            sa.select(rooms.c.id, rooms.c.last_seq)
            .join(memberships, memberships.c.room_id == rooms.c.id)
            .where(memberships.c.user_id == user_id)
            .order_by(rooms.c.id)
        )
        async with self._engine.connect() as conn:
            return [(r.id, r.last_seq) for r in (await conn.execute(query)).all()]

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

    async def members(self, room_id: int) -> list[Member]:
        query = (
            sa.select(*USER_COLUMNS, memberships.c.role)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.room_id == room_id)
            .order_by(users.c.username_key)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Member(r.id, r.username, r.display_name, r.created_at, r.role) for r in rows]

    async def member_ids(self, room_id: int) -> list[int]:
        query = sa.select(memberships.c.user_id).where(memberships.c.room_id == room_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def co_member_ids(self, user_id: int) -> set[int]:
        """Everyone who shares at least one room with the user (presence goes to them)."""
        mine = sa.select(memberships.c.room_id).where(memberships.c.user_id == user_id)
        query = sa.select(memberships.c.user_id).where(memberships.c.room_id.in_(mine)).distinct()
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def mark_read(self, room_id: int, user_id: int, seq: int) -> int | None:
        """Move the read marker forward (never back, never past the room's end).

        Returns the new marker, or None if the user is not a member.
        """
        async with self._engine.begin() as conn:
            last_seq = (
                await conn.execute(sa.select(rooms.c.last_seq).where(rooms.c.id == room_id))
            ).scalar_one_or_none()
            if last_seq is None:
                return None
            target = min(seq, last_seq)
            await conn.execute(
                memberships.update()
                .where(
                    memberships.c.room_id == room_id,
                    memberships.c.user_id == user_id,
                    memberships.c.read_seq < target,
                )
                .values(read_seq=target)
            )
            row = (
                await conn.execute(
                    sa.select(memberships.c.read_seq).where(
                        memberships.c.room_id == room_id, memberships.c.user_id == user_id
                    )
                )
            ).first()
        return None if row is None else int(row.read_seq)

    async def update(self, room_id: int, **values: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(rooms.update().where(rooms.c.id == room_id).values(**values))

    async def set_role(self, room_id: int, user_id: int, role: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
                .values(role=role)
            )

    async def user_by_username(self, username: str) -> User | None:
        query = sa.select(*USER_COLUMNS).where(
            users.c.username_key == username.lower(), users.c.disabled == sa.false()
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return user_from_row(row) if row else None


async def _role_of(conn: AsyncConnection, room_id: int, user_id: int) -> str | None:
    return (
        await conn.execute(
            sa.select(memberships.c.role).where(
                memberships.c.room_id == room_id, memberships.c.user_id == user_id
            )
        )
    ).scalar_one_or_none()
