"""Memberships: who is in which room, with which role, and how far each has read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import AVATAR_URL, Member, RoomView, User, default_notify_level
from parley.store.mentions import mentions_user
from parley.store.people import status_from_row
from parley.store.rooms import ROOM_COLUMNS
from parley.store.schema import memberships, messages, rooms, users
from parley.store.users import USER_COLUMNS, user_from_row


class MembershipStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
        """Every room the user is a member of, with read marker and unread count.

        A thread reply not also sent to the room counts in its thread, not in the room.
        """
        mine = memberships.alias("mine")
        in_timeline = sa.or_(
            messages.c.thread_root_id.is_(None), messages.c.also_to_room == sa.true()
        )
        unread = (
            sa.select(sa.func.count())
            .where(
                messages.c.room_id == rooms.c.id,
                messages.c.seq > mine.c.read_seq,
                messages.c.author_id != user_id,
                messages.c.deleted_at.is_(None),
                in_timeline,
            )
            .scalar_subquery()
        )
        # Unread messages that mention me by name or call "@room" (counted once each).
        mentions = (
            sa.select(sa.func.count())
            .where(
                messages.c.room_id == rooms.c.id,
                messages.c.seq > mine.c.read_seq,
                messages.c.author_id != user_id,
                messages.c.deleted_at.is_(None),
                mentions_user(user_id),
                in_timeline,
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
                mine.c.notify_level,
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
                    retention_days=r.retention_days,
                    notify_level=r.notify_level or default_notify_level(r.kind),
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
            group_ids = [v.id for v in views if v.kind == "group"]
            if group_ids:
                # A group conversation is named after its other people, as each sees it.
                others = await conn.execute(
                    sa.select(memberships.c.room_id, users.c.display_name)
                    .join(users, users.c.id == memberships.c.user_id)
                    .where(memberships.c.room_id.in_(group_ids), memberships.c.user_id != user_id)
                    .order_by(users.c.username_key)
                )
                names: dict[int, list[str]] = {}
                for row in others:
                    names.setdefault(row.room_id, []).append(row.display_name)
                for view in views:
                    if view.kind == "group":
                        view.name = ", ".join(names.get(view.id, []))
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

    async def members(self, room_id: int) -> list[Member]:
        """The room's members with their avatars and statuses as stored (the domain
        drops a status past its end)."""
        query = (
            sa.select(
                *USER_COLUMNS,
                memberships.c.role,
                users.c.avatar_version,
                users.c.status,
                users.c.status_text,
                users.c.status_expires_at,
            )
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.room_id == room_id)
            .order_by(users.c.username_key)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Member(
                r.id,
                r.username,
                r.display_name,
                r.created_at,
                r.role,
                avatar_url=(
                    AVATAR_URL.format(user_id=r.id, version=r.avatar_version)
                    if r.avatar_version
                    else None
                ),
                user_status=status_from_row(r),
            )
            for r in rows
        ]

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

    async def set_role(self, room_id: int, user_id: int, role: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
                .values(role=role)
            )


async def _role_of(conn: AsyncConnection, room_id: int, user_id: int) -> str | None:
    return (
        await conn.execute(
            sa.select(memberships.c.role).where(
                memberships.c.room_id == room_id, memberships.c.user_id == user_id
            )
        )
    ).scalar_one_or_none()
