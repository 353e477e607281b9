"""The server's custom emoji: a name, a re-encoded image, who added it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import CustomEmoji, StoredEmoji
from parley.errors import Conflict
from parley.store.schema import custom_emoji

EMOJI_URL = "/api/emoji/custom/{name}/image?v={version}"
# How much of the blob key versions the URL: a name re-used for another image is a new URL.
URL_VERSION_CHARS = 12


def _stored(row: Any) -> StoredEmoji:
    url = EMOJI_URL.format(name=row.name, version=row.blob_key[:URL_VERSION_CHARS])
    return StoredEmoji(
        emoji=CustomEmoji(row.name, url, row.created_by, row.created_at),
        blob_key=row.blob_key,
        content_type=row.content_type,
    )


class CustomEmojiStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[StoredEmoji]:
        query = sa.select(custom_emoji).order_by(custom_emoji.c.name)
        async with self._engine.connect() as conn:
            return [_stored(r) for r in (await conn.execute(query)).all()]

    async def get(self, name: str) -> StoredEmoji | None:
        query = sa.select(custom_emoji).where(custom_emoji.c.name == name)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _stored(row) if row else None

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            found = await conn.execute(sa.select(sa.func.count()).select_from(custom_emoji))
            return int(found.scalar_one())

    async def insert(
        self, name: str, blob_key: str, content_type: str, created_by: int, created_at: str
    ) -> StoredEmoji:
        """Add an emoji; Conflict ``emoji_exists`` when the name is taken."""
        row = {
            "name": name,
            "blob_key": blob_key,
            "content_type": content_type,
            "created_by": created_by,
            "created_at": created_at,
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(custom_emoji.insert().values(**row))
        except IntegrityError as exc:
            raise Conflict(f":{name}: exists already.", code="emoji_exists") from exc
        return _stored(SimpleNamespace(**row))

    async def delete(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(custom_emoji.delete().where(custom_emoji.c.name == name))
        return bool(result.rowcount)

    async def forget_creator(self, user_id: int) -> None:
        """An account deleted: its emoji stay (others use them), no longer named as its."""
        async with self._engine.begin() as conn:
            await conn.execute(
                custom_emoji.update()
                .where(custom_emoji.c.created_by == user_id)
                .values(created_by=None)
            )
