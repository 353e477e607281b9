"""Incoming webhooks: a room, a name, a bot user to post as, and a hashed secret."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import User, Webhook
from parley.store.schema import users, webhooks
from parley.store.users import user_from_row

_HOOK_WITH_BOT = sa.select(
    webhooks.c.id.label("hook_id"),
    webhooks.c.room_id,
    webhooks.c.name,
    webhooks.c.created_at.label("hook_created_at"),
    webhooks.c.token_hash,
    webhooks.c.created_by,
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.created_at,
).join(users, users.c.id == webhooks.c.bot_user_id)


def _hook(row: sa.Row) -> Webhook:  # type: ignore[type-arg]
    return Webhook(
        row.hook_id, row.room_id, row.name, row.hook_created_at, user_from_row(row), row.created_by
    )


class WebhookStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self, room_id: int, name: str, token_hash: str, bot: User, created_by: int, now: str
    ) -> Webhook:
        async with self._engine.begin() as conn:
            hook_id = (
                await conn.execute(
                    webhooks.insert()
                    .values(
                        room_id=room_id,
                        name=name,
                        token_hash=token_hash,
                        bot_user_id=bot.id,
                        created_by=created_by,
                        created_at=now,
                    )
                    .returning(webhooks.c.id)
                )
            ).scalar_one()
        return Webhook(hook_id, room_id, name, now, bot, created_by)

    async def get(self, hook_id: int) -> tuple[Webhook, str] | None:
        """The webhook and its token hash, or None."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_HOOK_WITH_BOT.where(webhooks.c.id == hook_id))).first()
        return None if row is None else (_hook(row), row.token_hash)

    async def of_room(self, room_id: int) -> list[Webhook]:
        query = _HOOK_WITH_BOT.where(webhooks.c.room_id == room_id).order_by(webhooks.c.id)
        async with self._engine.connect() as conn:
            return [_hook(r) for r in (await conn.execute(query)).all()]

    async def delete(self, hook_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(webhooks.delete().where(webhooks.c.id == hook_id))
