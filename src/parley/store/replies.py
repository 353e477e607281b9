"""Reply quotes: a short excerpt of the message replied to, for a page in one query."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.domain.models import User
from parley.store.schema import messages, users

# Enough to recognise the original; the client jumps to it for the rest.
QUOTE_CHARS = 140


def quote_of(body: str, deleted: bool) -> str:
    if deleted:
        return ""
    return body if len(body) <= QUOTE_CHARS else body[: QUOTE_CHARS - 1] + "…"


async def quotes_for(conn: AsyncConnection, target_ids: set[int]) -> dict[int, dict[str, Any]]:
    """{message id: {"id", "seq", "author", "body", "deleted"}} of the replied-to messages."""
    if not target_ids:
        return {}
    query = (
        sa.select(
            messages.c.id,
            messages.c.seq,
            messages.c.body,
            messages.c.deleted_at,
            messages.c.author_id,
            users.c.username,
            users.c.display_name,
            users.c.created_at.label("author_created_at"),
        )
        .join(users, users.c.id == messages.c.author_id)
        .where(messages.c.id.in_(target_ids))
    )
    found: dict[int, dict[str, Any]] = {}
    for row in await conn.execute(query):
        deleted = row.deleted_at is not None
        found[row.id] = {
            "id": row.id,
            "seq": row.seq,
            "author": User(row.author_id, row.username, row.display_name, row.author_created_at),
            "body": quote_of(row.body, deleted),
            "deleted": deleted,
        }
    return found
