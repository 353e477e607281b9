"""Uploaded files and their links to messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import File, FileRecord
from parley.store.batch import file_from_row
from parley.store.people import key_in_use, media_blob_keys
from parley.store.schema import files, memberships, message_files, messages


def record_from_row(row: Any) -> FileRecord:
    return FileRecord(
        file=file_from_row(row),
        uploader_id=row.uploader_id,
        blob_key=row.blob_key,
        thumb_key=row.thumb_key,
        created_at=row.created_at,
    )


async def owned_files(
    conn: AsyncConnection, wanted: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], File]:
    """The files among ``(uploader_id, file_id)`` pairs that exist and are that user's."""
    pairs = set(wanted)
    if not pairs:
        return {}
    rows = await conn.execute(
        sa.select(files).where(files.c.id.in_({file_id for _, file_id in pairs}))
    )
    found = {(r.uploader_id, r.id): file_from_row(r) for r in rows}
    return {pair: found[pair] for pair in pairs if pair in found}


async def link(conn: AsyncConnection, links: list[tuple[int, str, int]]) -> None:
    """Attach files to messages: ``(message_id, file_id, position)`` rows."""
    if links:
        await conn.execute(
            message_files.insert(),
            [{"message_id": m, "file_id": f, "position": p} for m, f, p in links],
        )


async def attachments_of(
    conn: AsyncConnection, message_ids: Iterable[int]
) -> dict[int, list[File]]:
    """Each message's attached files, in the order they were attached."""
    ids = set(message_ids)
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(files, message_files.c.message_id)
        .join(message_files, message_files.c.file_id == files.c.id)
        .where(message_files.c.message_id.in_(ids))
        .order_by(message_files.c.message_id, message_files.c.position)
    )
    found: dict[int, list[File]] = defaultdict(list)
    for row in rows:
        found[row.message_id].append(file_from_row(row))
    return found


class FileStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, record: FileRecord) -> None:
        f = record.file
        async with self._engine.begin() as conn:
            await conn.execute(
                files.insert().values(
                    id=f.id,
                    uploader_id=record.uploader_id,
                    name=f.name,
                    size=f.size,
                    content_type=f.content_type,
                    blob_key=record.blob_key,
                    thumb_key=record.thumb_key,
                    width=f.width,
                    height=f.height,
                    created_at=record.created_at,
                )
            )

    async def get(self, file_id: str) -> FileRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(files).where(files.c.id == file_id))).first()
        return record_from_row(row) if row else None

    async def visible_to(self, file_id: str, user_id: int) -> bool:
        """True if the user is a member of a room where the file is in a live message."""
        query = (
            sa.select(sa.literal(1))
            .select_from(message_files)
            .join(messages, messages.c.id == message_files.c.message_id)
            .join(
                memberships,
                sa.and_(
                    memberships.c.room_id == messages.c.room_id,
                    memberships.c.user_id == user_id,
                ),
            )
            .where(message_files.c.file_id == file_id, messages.c.deleted_at.is_(None))
            .limit(1)
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def uploaded_since(self, uploader_id: int, cutoff: str) -> tuple[int, str | None]:
        """The bytes ``uploader_id`` uploaded since ``cutoff``, and when the oldest came."""
        query = sa.select(sa.func.sum(files.c.size), sa.func.min(files.c.created_at)).where(
            files.c.uploader_id == uploader_id, files.c.created_at >= cutoff
        )
        async with self._engine.connect() as conn:
            total, oldest = (await conn.execute(query)).one()
        return int(total or 0), oldest

    async def unattached_before(self, cutoff: str, limit: int) -> list[FileRecord]:
        """Files created before ``cutoff`` that no message refers to, oldest first."""
        query = (
            sa.select(files)
            .where(
                files.c.created_at < cutoff,
                ~sa.exists().where(message_files.c.file_id == files.c.id),
            )
            .order_by(files.c.created_at)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [record_from_row(r) for r in await conn.execute(query)]

    async def delete_unattached(self, file_ids: list[str]) -> list[str]:
        """Delete those of ``file_ids`` still unattached; returns the ids deleted."""
        if not file_ids:
            return []
        unattached = sa.and_(
            files.c.id.in_(file_ids), ~sa.exists().where(message_files.c.file_id == files.c.id)
        )
        async with self._engine.begin() as conn:
            ids = list((await conn.execute(sa.select(files.c.id).where(unattached))).scalars())
            if ids:
                await conn.execute(files.delete().where(files.c.id.in_(ids)))
        return ids

    async def delete(self, file_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(files.delete().where(files.c.id == file_id))

    async def key_in_use(self, key: str) -> bool:
        """True if any file still refers to the blob ``key`` (as its bytes or thumbnail),
        or an avatar, custom emoji or link preview does (blobs are shared by content)."""
        async with self._engine.connect() as conn:
            return await key_in_use(conn, key)

    async def all_blob_keys(self) -> list[str]:
        """Every blob key in use (files' bytes and thumbnails, avatars, custom emoji, link
        preview images), each once, sorted."""
        query = sa.union(
            sa.select(files.c.blob_key.label("key")),
            sa.select(files.c.thumb_key.label("key")).where(files.c.thumb_key.is_not(None)),
        )
        async with self._engine.connect() as conn:
            found = {str(row.key) for row in await conn.execute(query)}
            return sorted(found | await media_blob_keys(conn))
