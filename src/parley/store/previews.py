"""Link previews: the cache of what pages said, which message shows which, room switches."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import LinkPreview
from parley.store.schema import link_previews, memberships, message_previews, rooms


def _preview(row: Any) -> LinkPreview:
    return LinkPreview(
        url_hash=row.url_hash,
        url=row.url,
        ok=bool(row.ok),
        title=row.title or "",
        description=row.description or "",
        site_name=row.site_name or "",
        image_key=row.image_key,
        image_type=row.image_type,
        fetched_at=row.fetched_at,
        expires_at=row.expires_at,
    )


async def previews_for(conn: AsyncConnection, message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{message id: its preview as JSON} for the messages among ``message_ids`` that have
    one, in one query (a failed fetch shows nothing)."""
    if not message_ids:
        return {}
    query = (
        sa.select(message_previews.c.message_id, link_previews)
        .join(link_previews, link_previews.c.url_hash == message_previews.c.url_hash)
        .where(message_previews.c.message_id.in_(message_ids), link_previews.c.ok == sa.true())
    )
    return {r.message_id: _preview(r).as_json() for r in await conn.execute(query)}


class PreviewStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def cached(self, url_hash: str) -> LinkPreview | None:
        query = sa.select(link_previews).where(link_previews.c.url_hash == url_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _preview(row) if row else None

    async def put(self, preview: LinkPreview) -> str | None:
        """Store (or replace) a cache entry; the image key it replaced, if another."""
        values = {
            "url": preview.url,
            "ok": preview.ok,
            "title": preview.title,
            "description": preview.description,
            "site_name": preview.site_name,
            "image_key": preview.image_key,
            "image_type": preview.image_type,
            "fetched_at": preview.fetched_at,
            "expires_at": preview.expires_at,
        }
        async with self._engine.begin() as conn:
            old = (
                await conn.execute(
                    sa.select(link_previews.c.image_key).where(
                        link_previews.c.url_hash == preview.url_hash
                    )
                )
            ).first()
            if old is None:
                await conn.execute(
                    link_previews.insert().values(url_hash=preview.url_hash, **values)
                )
                return None
            await conn.execute(
                link_previews.update()
                .where(link_previews.c.url_hash == preview.url_hash)
                .values(**values)
            )
        replaced = old.image_key
        return str(replaced) if replaced and replaced != preview.image_key else None

    async def attach(self, message_id: int, room_id: int, url_hash: str) -> bool:
        """Give a message its preview; False if the message is gone (deleted meanwhile)."""
        async with self._engine.begin() as conn:
            found = await conn.execute(
                sa.select(sa.literal(1)).where(message_previews.c.message_id == message_id)
            )
            if found.first() is not None:
                return False
            await conn.execute(
                message_previews.insert().values(
                    message_id=message_id, room_id=room_id, url_hash=url_hash
                )
            )
        return True

    async def image_for(self, url_hash: str, user_id: int) -> tuple[str, str] | None:
        """(blob key, type) of a preview's image if ``user_id`` is a member of a room with a
        message showing it; None alike for a missing preview and a hidden one."""
        shown = (
            sa.select(sa.literal(1))
            .select_from(message_previews)
            .join(
                memberships,
                sa.and_(
                    memberships.c.room_id == message_previews.c.room_id,
                    memberships.c.user_id == user_id,
                ),
            )
            .where(message_previews.c.url_hash == url_hash)
            .limit(1)
        )
        query = sa.select(link_previews.c.image_key, link_previews.c.image_type).where(
            link_previews.c.url_hash == url_hash,
            link_previews.c.image_key.is_not(None),
            sa.exists(shown),
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return (str(row.image_key), str(row.image_type)) if row else None

    async def remove_stale(self, now: str, limit: int) -> list[str]:
        """Delete up to ``limit`` cache entries past their expiry that no message shows;
        the image keys they used (for the domain to delete when nothing else does)."""
        shown = sa.select(message_previews.c.url_hash).where(
            message_previews.c.url_hash == link_previews.c.url_hash
        )
        query = (
            sa.select(link_previews.c.url_hash, link_previews.c.image_key)
            .where(link_previews.c.expires_at <= now, ~sa.exists(shown))
            .limit(limit)
        )
        async with self._engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            if rows:
                await conn.execute(
                    link_previews.delete().where(
                        link_previews.c.url_hash.in_([r.url_hash for r in rows]),
                        ~sa.exists(shown),
                    )
                )
        return sorted({str(r.image_key) for r in rows if r.image_key})

    async def room_enabled(self, room_id: int) -> bool:
        query = sa.select(rooms.c.previews).where(rooms.c.id == room_id)
        async with self._engine.connect() as conn:
            value = (await conn.execute(query)).scalar()
        return bool(value)

    async def set_room_enabled(self, room_id: int, enabled: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(rooms.update().where(rooms.c.id == room_id).values(previews=enabled))
