"""The store side of ``parley import slack``: the id map and bulk inserts.

``slack_imports`` maps each Slack object already imported (user, channel, message, file)
to the Parley row made of it, so that importing the same export again adds nothing and
a later export adds only what is new. Messages are inserted a batch per transaction
that reserves the room's next seqs exactly as the group committer does (``UPDATE rooms
SET last_seq = last_seq + n``), so an import may run beside a live server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import (
    memberships,
    message_files,
    messages,
    reactions,
    rooms,
    slack_imports,
    users,
)
from parley.store.users import insert_user


@dataclass(slots=True)
class ImportedMessage:
    """A Slack message ready to store in one room."""

    key: str  # "<channel id>:<ts>"
    author_id: int
    body: str
    created_at: str
    edited_at: str | None = None
    reply_to: int | None = None
    file_ids: list[str] = field(default_factory=list)
    file_names: str | None = None
    # (emoji, user id) pairs.
    reactions: list[tuple[str, int]] = field(default_factory=list)


class SlackImportStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mapped(self, kind: str, prefix: str = "") -> dict[str, str]:
        """{Slack id: Parley id} of everything of ``kind`` imported so far (whose Slack
        id starts with ``prefix``: one channel's messages, "<channel id>:")."""
        query = sa.select(slack_imports.c.slack_id, slack_imports.c.parley_id).where(
            slack_imports.c.kind == kind
        )
        if prefix:
            # A range on the primary key, not LIKE (prefix is no pattern).
            query = query.where(
                slack_imports.c.slack_id >= prefix,
                slack_imports.c.slack_id < prefix[:-1] + chr(ord(prefix[-1]) + 1),
            )
        async with self._engine.connect() as conn:
            return {r.slack_id: r.parley_id for r in await conn.execute(query)}

    async def remember(self, kind: str, slack_id: str, parley_id: str, now: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                slack_imports.insert().values(
                    kind=kind, slack_id=slack_id, parley_id=parley_id, created_at=now
                )
            )

    async def user_id_by_username(self, username: str) -> int | None:
        query = sa.select(users.c.id).where(
            users.c.username_key == username.lower(), users.c.deleted_at.is_(None)
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def create_user(
        self,
        slack_id: str,
        username: str,
        display_name: str,
        password_hash: str,
        created_at: str,
        *,
        is_bot: bool,
    ) -> int | None:
        """A new account mapped to ``slack_id``; None if the username is taken."""
        try:
            async with self._engine.begin() as conn:
                user_id = await insert_user(
                    conn, username, display_name, password_hash, created_at, is_bot=is_bot
                )
                await conn.execute(
                    slack_imports.insert().values(
                        kind="user",
                        slack_id=slack_id,
                        parley_id=str(user_id),
                        created_at=created_at,
                    )
                )
        except IntegrityError:
            return None
        return user_id

    async def create_room(
        self,
        slack_id: str,
        name: str,
        visibility: str,
        kind: str,
        topic: str,
        creator_id: int | None,
        created_at: str,
        archived_at: str | None,
        dm_key: str | None = None,
    ) -> int:
        if dm_key is not None:
            # The two already have a direct-message room in Parley: the history joins it.
            async with self._engine.begin() as conn:
                existing = (
                    await conn.execute(sa.select(rooms.c.id).where(rooms.c.dm_key == dm_key))
                ).scalar_one_or_none()
                if existing is not None:
                    await conn.execute(
                        slack_imports.insert().values(
                            kind="channel",
                            slack_id=slack_id,
                            parley_id=str(existing),
                            created_at=created_at,
                        )
                    )
                    return int(existing)
        async with self._engine.begin() as conn:
            room_id = (
                await conn.execute(
                    rooms.insert()
                    .values(
                        name=name,
                        visibility=visibility,
                        kind=kind,
                        topic=topic,
                        dm_key=dm_key,
                        created_by=creator_id,
                        created_at=created_at,
                        archived_at=archived_at,
                    )
                    .returning(rooms.c.id)
                )
            ).scalar_one()
            await conn.execute(
                slack_imports.insert().values(
                    kind="channel", slack_id=slack_id, parley_id=str(room_id), created_at=created_at
                )
            )
        return int(room_id)

    async def add_members(
        self, room_id: int, members: list[tuple[int, str]], joined_at: str
    ) -> int:
        """Add each (user id, role) not yet a member; how many were added."""
        async with self._engine.begin() as conn:
            present = set(
                (
                    await conn.execute(
                        sa.select(memberships.c.user_id).where(memberships.c.room_id == room_id)
                    )
                ).scalars()
            )
            rows = [
                {"room_id": room_id, "user_id": uid, "role": role, "joined_at": joined_at}
                for uid, role in members
                if uid not in present
            ]
            if rows:
                await conn.execute(memberships.insert(), rows)
        return len(rows)

    async def append(self, room_id: int, batch: list[ImportedMessage], now: str) -> list[int]:
        """Store ``batch`` in order with the room's next seqs, in one transaction, with
        their files, reactions and id map rows; the new message ids."""
        if not batch:
            return []
        async with self._engine.begin() as conn:
            last = (
                await conn.execute(
                    rooms.update()
                    .where(rooms.c.id == room_id)
                    .values(last_seq=rooms.c.last_seq + len(batch))
                    .returning(rooms.c.last_seq)
                )
            ).scalar_one()
            first = int(last) - len(batch) + 1
            await conn.execute(
                messages.insert(),
                [
                    {
                        "room_id": room_id,
                        "seq": first + offset,
                        "author_id": item.author_id,
                        "body": item.body,
                        "created_at": item.created_at,
                        "edited_at": item.edited_at,
                        "reply_to": item.reply_to,
                        "file_names": item.file_names,
                    }
                    for offset, item in enumerate(batch)
                ],
            )
            ids = [
                int(i)
                for i in (
                    await conn.execute(
                        sa.select(messages.c.id)
                        .where(
                            messages.c.room_id == room_id,
                            messages.c.seq.between(first, int(last)),
                        )
                        .order_by(messages.c.seq)
                    )
                ).scalars()
            ]
            links = [
                {"message_id": mid, "file_id": fid, "position": pos}
                for mid, item in zip(ids, batch, strict=True)
                for pos, fid in enumerate(item.file_ids)
            ]
            if links:
                await conn.execute(message_files.insert(), links)
            reacted = {
                (mid, emoji, uid): item.created_at
                for mid, item in zip(ids, batch, strict=True)
                for emoji, uid in item.reactions
            }
            if reacted:
                await conn.execute(
                    reactions.insert(),
                    [
                        {"message_id": m, "emoji": e, "user_id": u, "created_at": t}
                        for (m, e, u), t in reacted.items()
                    ],
                )
            await conn.execute(
                slack_imports.insert(),
                [
                    {
                        "kind": "message",
                        "slack_id": item.key,
                        "parley_id": str(mid),
                        "created_at": now,
                    }
                    for mid, item in zip(ids, batch, strict=True)
                ],
            )
        return ids
