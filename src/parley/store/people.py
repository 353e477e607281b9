"""Profiles, statuses, avatars and link-preview preferences of people (users rows)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import PersonStatus, PreviewPrefs, ProfileRow
from parley.store.schema import avatars, custom_emoji, files, link_previews, memberships, users

PROFILE_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.pronouns,
    users.c.title,
    users.c.timezone,
    users.c.avatar_version,
    users.c.status,
    users.c.status_text,
    users.c.status_expires_at,
)


def status_from_row(row: Any) -> PersonStatus | None:
    if row.status is None:
        return None
    return PersonStatus(row.status, row.status_text or "", row.status_expires_at)


def _profile(row: Any) -> ProfileRow:
    return ProfileRow(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        pronouns=row.pronouns or "",
        title=row.title or "",
        timezone=row.timezone or "",
        avatar_version=row.avatar_version,
        status=status_from_row(row),
    )


class PeopleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def profile_by_username(self, username: str) -> ProfileRow | None:
        """An active (not disabled, not deleted) person's profile by name, any case."""
        query = sa.select(*PROFILE_COLUMNS).where(
            users.c.username_key == username.lower(),
            users.c.disabled == sa.false(),
            users.c.deleted_at.is_(None),
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _profile(row) if row else None

    async def profile(self, user_id: int) -> ProfileRow | None:
        query = sa.select(*PROFILE_COLUMNS).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _profile(row) if row else None

    async def shares_room(self, user_id: int, other_id: int) -> bool:
        """True if the two are members of at least one common room (a DM counts)."""
        mine = sa.select(memberships.c.room_id).where(memberships.c.user_id == user_id)
        query = (
            sa.select(sa.literal(1))
            .where(memberships.c.user_id == other_id, memberships.c.room_id.in_(mine))
            .limit(1)
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def update_profile(self, user_id: int, values: dict[str, str]) -> None:
        """Set any of display_name, pronouns, title, timezone (already validated)."""
        async with self._engine.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(**values))

    async def set_status(self, user_id: int, status: PersonStatus | None) -> None:
        values: dict[str, Any] = (
            {"status": None, "status_text": "", "status_expires_at": None}
            if status is None
            else {
                "status": status.status,
                "status_text": status.text,
                "status_expires_at": status.expires_at,
            }
        )
        async with self._engine.begin() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(**values))

    async def set_avatar(
        self, user_id: int, version: str, sizes: dict[int, tuple[str, str]]
    ) -> list[str]:
        """Make ``sizes`` ({size: (blob key, type)}) the avatar; the keys it replaced."""
        async with self._engine.begin() as conn:
            old = await self._keys(conn, user_id)
            await conn.execute(avatars.delete().where(avatars.c.user_id == user_id))
            await conn.execute(
                avatars.insert(),
                [
                    {"user_id": user_id, "size": size, "blob_key": key, "content_type": kind}
                    for size, (key, kind) in sorted(sizes.items())
                ],
            )
            await conn.execute(
                users.update().where(users.c.id == user_id).values(avatar_version=version)
            )
        return old

    async def clear_avatar(self, user_id: int) -> list[str]:
        """Remove the avatar; the blob keys it used."""
        async with self._engine.begin() as conn:
            old = await self._keys(conn, user_id)
            await conn.execute(avatars.delete().where(avatars.c.user_id == user_id))
            await conn.execute(
                users.update().where(users.c.id == user_id).values(avatar_version=None)
            )
        return old

    @staticmethod
    async def _keys(conn: Any, user_id: int) -> list[str]:
        query = sa.select(avatars.c.blob_key).where(avatars.c.user_id == user_id)
        return sorted({str(k) for k in (await conn.execute(query)).scalars()})

    async def avatar(self, user_id: int, size: int) -> tuple[str, str, str] | None:
        """(version, blob key, type) of the user's avatar at ``size``, if they have one."""
        query = (
            sa.select(users.c.avatar_version, avatars.c.blob_key, avatars.c.content_type)
            .join(avatars, avatars.c.user_id == users.c.id)
            .where(users.c.id == user_id, avatars.c.size == size)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.avatar_version is None:
            return None
        return str(row.avatar_version), str(row.blob_key), str(row.content_type)

    async def preview_prefs(self, user_id: int) -> PreviewPrefs:
        query = sa.select(users.c.previews_show, users.c.previews_generate).where(
            users.c.id == user_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return PreviewPrefs(show=True, generate=True)
        return PreviewPrefs(show=bool(row.previews_show), generate=bool(row.previews_generate))

    async def set_preview_prefs(self, user_id: int, prefs: PreviewPrefs) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(previews_show=prefs.show, previews_generate=prefs.generate)
            )

    async def media_key_in_use(self, key: str) -> bool:
        """True if a file, an avatar, a custom emoji or a link preview uses blob ``key``."""
        async with self._engine.connect() as conn:
            return await key_in_use(conn, key)


async def media_blob_keys(conn: Any) -> set[str]:
    """Every blob key avatars, custom emoji and link previews refer to."""
    query = sa.union(
        sa.select(avatars.c.blob_key.label("key")),
        sa.select(custom_emoji.c.blob_key.label("key")),
        sa.select(link_previews.c.image_key.label("key")).where(
            link_previews.c.image_key.is_not(None)
        ),
    )
    return {str(row.key) for row in await conn.execute(query)}


async def key_in_use(conn: Any, key: str) -> bool:
    """True if any row (files, avatars, custom emoji, link previews) uses blob ``key``:
    blobs are shared by content, so one is deleted only when none does."""
    query = sa.select(
        sa.or_(
            sa.exists().where(sa.or_(files.c.blob_key == key, files.c.thumb_key == key)),
            sa.exists().where(avatars.c.blob_key == key),
            sa.exists().where(custom_emoji.c.blob_key == key),
            sa.exists().where(link_previews.c.image_key == key),
        )
    )
    return bool((await conn.execute(query)).scalar())
