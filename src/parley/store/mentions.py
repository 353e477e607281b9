"""Mentions: which users a message names with @username, resolved among room members."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.batch import Mentioned, resolve_mentions
from parley.store.schema import memberships, message_mentions, messages, users


def mentions_user(user_id: int) -> sa.ColumnElement[bool]:
    """The message (``messages`` in the enclosing statement) names ``user_id`` with
    @username or calls the whole room with @room."""
    named = (
        sa.select(message_mentions.c.message_id)
        .where(
            message_mentions.c.message_id == messages.c.id,
            message_mentions.c.user_id == user_id,
        )
        .exists()
    )
    return sa.or_(messages.c.mentions_room == sa.true(), named)


async def store_mentions(conn: AsyncConnection, items: list[Mentioned]) -> dict[int, list[int]]:
    """Record the mentions of ``items`` in the open transaction.

    Only members of the message's room count: a name that is not one mentions nobody.
    Returns {message id: [user ids]} for the messages that mention someone.
    """
    items = [i for i in items if i.names]
    if not items:
        return {}
    names = {n for i in items for n in i.names}
    room_ids = {i.room_id for i in items}
    query = (
        sa.select(memberships.c.room_id, users.c.id, users.c.username_key)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.room_id.in_(room_ids), users.c.username_key.in_(names))
    )
    by_room: dict[int, dict[str, int]] = defaultdict(dict)
    for row in await conn.execute(query):
        by_room[row.room_id][row.username_key] = row.id
    found, rows = resolve_mentions(items, by_room)
    if rows:
        await conn.execute(
            message_mentions.insert(),
            [{"message_id": m, "user_id": u, "room_id": r, "seq": s} for m, u, r, s in rows],
        )
    return found


async def clear_mentions(conn: AsyncConnection, message_id: int) -> None:
    await conn.execute(message_mentions.delete().where(message_mentions.c.message_id == message_id))


async def mentions_for(conn: AsyncConnection, message_ids: list[int]) -> dict[int, list[int]]:
    """{message id: [mentioned user ids]} for a page of messages, in one query."""
    if not message_ids:
        return {}
    query = (
        sa.select(message_mentions.c.message_id, message_mentions.c.user_id)
        .where(message_mentions.c.message_id.in_(message_ids))
        .order_by(message_mentions.c.message_id, message_mentions.c.user_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in await conn.execute(query):
        found[row.message_id].append(row.user_id)
    return found
