"""Bot accounts: users that sign in only with API tokens, owned by a person."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import User
from parley.errors import Conflict
from parley.store.schema import users
from parley.store.users import USER_COLUMNS, insert_user, user_from_row

# Not an argon2 hash: password sign-in can never succeed for a bot.
NO_PASSWORD = "!bot"


class BotStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self, username: str, display_name: str, owner_id: int | None, created_at: str
    ) -> User:
        """Insert a bot user; Conflict(username_taken) if the name is taken in any case."""
        try:
            async with self._engine.begin() as conn:
                user_id = await insert_user(
                    conn,
                    username,
                    display_name,
                    NO_PASSWORD,
                    created_at,
                    is_bot=True,
                    bot_owner_id=owner_id,
                )
        except IntegrityError as exc:
            raise Conflict("That username is taken.", code="username_taken") from exc
        return User(user_id, username, display_name, created_at)

    async def is_bot(self, user_id: int) -> bool:
        query = sa.select(users.c.is_bot).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            return bool((await conn.execute(query)).scalar_one_or_none())

    async def bots_of(self, owner_id: int) -> list[User]:
        query = (
            sa.select(*USER_COLUMNS)
            .where(
                users.c.bot_owner_id == owner_id,
                users.c.is_bot == sa.true(),
                users.c.disabled == sa.false(),
            )
            .order_by(users.c.id)
        )
        async with self._engine.connect() as conn:
            return [user_from_row(r) for r in (await conn.execute(query)).all()]

    async def all_bot_ids_of(self, owner_id: int) -> list[int]:
        """Every bot the person owns, disabled ones and webhooks' included."""
        query = sa.select(users.c.id).where(
            users.c.bot_owner_id == owner_id, users.c.is_bot == sa.true()
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def owned_bot(self, owner_id: int, bot_id: int) -> User | None:
        query = sa.select(*USER_COLUMNS).where(
            users.c.id == bot_id,
            users.c.bot_owner_id == owner_id,
            users.c.is_bot == sa.true(),
            users.c.disabled == sa.false(),
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return user_from_row(row) if row else None
