"""Users and their credentials."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Account, User
from parley.errors import Conflict
from parley.store.schema import users

USER_COLUMNS = (users.c.id, users.c.username, users.c.display_name, users.c.created_at)


def user_from_row(row: Any) -> User:
    return User(
        id=row.id, username=row.username, display_name=row.display_name, created_at=row.created_at
    )


def _account_from_row(row: Any) -> Account:
    return Account(
        user=user_from_row(row),
        password_hash=row.password_hash,
        is_admin=bool(row.is_admin),
        disabled=bool(row.disabled),
        totp_enabled=bool(row.totp_enabled),
        is_bot=bool(row.is_bot),
        email=row.email,
        email_verified_at=row.email_verified_at,
    )


async def insert_user(
    conn: AsyncConnection,
    username: str,
    display_name: str,
    password_hash: str,
    created_at: str,
    **flags: Any,
) -> int:
    """Insert a user row in the open transaction; its id. ``flags``: is_admin, is_bot,
    bot_owner_id. A name taken in any case raises IntegrityError (username_key)."""
    result = await conn.execute(
        users.insert()
        .values(
            username=username,
            username_key=username.lower(),
            display_name=display_name,
            password_hash=password_hash,
            created_at=created_at,
            **flags,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


class UserStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        created_at: str,
        *,
        is_admin: bool = False,
    ) -> User:
        """Insert a user; raises Conflict(username_taken) if the name is taken in any case."""
        try:
            async with self._engine.begin() as conn:
                user_id = await insert_user(
                    conn, username, display_name, password_hash, created_at, is_admin=is_admin
                )
        except IntegrityError as exc:
            raise Conflict("That username is taken.", code="username_taken") from exc
        return User(id=user_id, username=username, display_name=display_name, created_at=created_at)

    async def account_by_username(self, username: str) -> Account | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(users).where(users.c.username_key == username.lower()))
            ).first()
        return _account_from_row(row) if row else None

    async def account_by_id(self, user_id: int) -> Account | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
        return _account_from_row(row) if row else None

    async def by_id(self, user_id: int) -> User | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(*USER_COLUMNS).where(users.c.id == user_id))
            ).first()
        return user_from_row(row) if row else None

    async def active_by_username(self, username: str) -> User | None:
        query = sa.select(*USER_COLUMNS).where(
            users.c.username_key == username.lower(), users.c.disabled == sa.false()
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return user_from_row(row) if row else None

    async def search(self, prefix: str, limit: int) -> list[User]:
        """Users whose username or display name starts with ``prefix``, by username."""
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = escaped + "%"
        query = (
            sa.select(*USER_COLUMNS)
            .where(
                sa.or_(
                    users.c.username_key.like(pattern, escape="\\"),
                    sa.func.lower(users.c.display_name).like(pattern, escape="\\"),
                ),
                users.c.disabled == sa.false(),
            )
            .order_by(users.c.username_key)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [user_from_row(r) for r in rows]

    async def update_profile(self, user_id: int, display_name: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(display_name=display_name)
            )

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(password_hash=password_hash)
            )

    async def set_email(self, user_id: int, email: str | None) -> None:
        """A new address (or none), not verified yet."""
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(email=email, email_verified_at=None)
            )

    async def verify_email(self, user_id: int, email: str, at: str) -> bool:
        """Mark the address verified if it is still the user's; False when it is not."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(users.c.id == user_id, users.c.email == email)
                .values(email_verified_at=sa.func.coalesce(users.c.email_verified_at, at))
            )
        return bool(result.rowcount)

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(disabled=disabled)
            )

    async def set_admin(self, user_id: int, is_admin: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(is_admin=is_admin)
            )

    async def totp_secret(self, user_id: int) -> str | None:
        async with self._engine.connect() as conn:
            return (
                await conn.execute(sa.select(users.c.totp_secret).where(users.c.id == user_id))
            ).scalar_one_or_none()

    async def set_totp(self, user_id: int, secret: str | None, enabled: bool) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(totp_secret=secret, totp_enabled=enabled)
            )
