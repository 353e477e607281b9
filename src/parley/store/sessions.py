"""Signed-in sessions. Only a hash of each token is stored."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Account, Session
from parley.store.schema import push_subscriptions, sessions, users
from parley.store.users import user_from_row

# Built once: every authenticated request and WebSocket upgrade runs it, and an alias
# made per call is a copy of every column of ``users`` in reference cycles, garbage that
# waits for the cyclic collector (see parley.app's threshold) and fragments the heap.
_OWNERS = users.alias("owners")
_LOOKUP = (
    sa.select(
        sessions.c.id.label("session_id"),
        sessions.c.created_at.label("session_created_at"),
        sessions.c.last_seen_at,
        sessions.c.user_agent,
        sessions.c.ip,
        _OWNERS.c.disabled.label("owner_disabled"),
        users,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .outerjoin(_OWNERS, _OWNERS.c.id == users.c.bot_owner_id)
    .where(sessions.c.token_hash == sa.bindparam("token_hash"))
)


def _session(row: Any) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        user_agent=row.user_agent,
        ip=row.ip,
    )


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, session: Session, token_hash: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sessions.insert().values(
                    id=session.id,
                    token_hash=token_hash,
                    user_id=session.user_id,
                    created_at=session.created_at,
                    last_seen_at=session.last_seen_at,
                    user_agent=session.user_agent,
                    ip=session.ip,
                )
            )

    async def lookup(self, token_hash: str) -> tuple[Session, Account] | None:
        """The session and account for a token, or None if unknown or revoked.

        A bot's account counts as disabled while its owner's is: the owner's grant is
        what the bot acts under.
        """
        async with self._engine.connect() as conn:
            row = (await conn.execute(_LOOKUP, {"token_hash": token_hash})).first()
        if row is None:
            return None
        account = Account(
            user=user_from_row(row),
            password_hash=row.password_hash,
            is_admin=bool(row.is_admin),
            disabled=bool(row.disabled) or bool(row.owner_disabled),
            totp_enabled=bool(row.totp_enabled),
            is_bot=bool(row.is_bot),
            email=row.email,
            email_verified_at=row.email_verified_at,
        )
        session = Session(
            id=row.session_id,
            user_id=account.user.id,
            created_at=row.session_created_at,
            last_seen_at=row.last_seen_at,
            user_agent=row.user_agent,
            ip=row.ip,
        )
        return session, account

    async def created_at(self, session_id: str) -> str | None:
        query = sa.select(sessions.c.created_at).where(sessions.c.id == session_id)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def touch(self, session_id: str, now: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sessions.update().where(sessions.c.id == session_id).values(last_seen_at=now)
            )

    async def of_ids(self, session_ids: list[str]) -> list[tuple[Session, bool]]:
        """The sessions among these ids that still exist, each with whether it is a bot's."""
        query = (
            sa.select(sessions, users.c.is_bot)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id.in_(session_ids))
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            (
                _session(r),
                bool(r.is_bot),
            )
            for r in rows
        ]

    async def touch_many(self, session_ids: list[str], now: str) -> None:
        if not session_ids:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                sessions.update().where(sessions.c.id.in_(session_ids)).values(last_seen_at=now)
            )

    async def delete_ids(self, session_ids: list[str]) -> None:
        if not session_ids:
            return
        async with self._engine.begin() as conn:
            await _forget_devices(conn, session_ids)
            await conn.execute(sessions.delete().where(sessions.c.id.in_(session_ids)))

    async def for_user(self, user_id: int) -> list[Session]:
        query = (
            sa.select(sessions)
            .where(sessions.c.user_id == user_id)
            .order_by(sessions.c.created_at.desc())
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_session(r) for r in rows]

    async def delete(self, user_id: int, session_id: str) -> bool:
        """Revoke one of the user's sessions; False if the user has no such session."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sessions.delete().where(sessions.c.id == session_id, sessions.c.user_id == user_id)
            )
            if result.rowcount:
                await _forget_devices(conn, [session_id])
        return bool(result.rowcount)

    async def delete_all_of(self, user_ids: list[int]) -> list[str]:
        """Revoke every session of these users; returns the revoked ids."""
        if not user_ids:
            return []
        async with self._engine.begin() as conn:
            query = sa.select(sessions.c.id).where(sessions.c.user_id.in_(user_ids))
            ids = list((await conn.execute(query)).scalars())
            if ids:
                await _forget_devices(conn, ids)
                await conn.execute(sessions.delete().where(sessions.c.id.in_(ids)))
        return ids

    async def delete_all_but(self, user_id: int, keep_session_id: str | None) -> list[str]:
        """Revoke every session of the user except one; returns the revoked ids."""
        async with self._engine.begin() as conn:
            query = sa.select(sessions.c.id).where(sessions.c.user_id == user_id)
            if keep_session_id is not None:
                query = query.where(sessions.c.id != keep_session_id)
            ids = list((await conn.execute(query)).scalars())
            if ids:
                await _forget_devices(conn, ids)
                await conn.execute(sessions.delete().where(sessions.c.id.in_(ids)))
        return ids


async def _forget_devices(conn: AsyncConnection, session_ids: list[str]) -> None:
    """A session that ends takes the push subscriptions made in it along: a shared
    browser signed out gets no more of its last person's notifications."""
    await conn.execute(
        push_subscriptions.delete().where(push_subscriptions.c.session_id.in_(session_ids))
    )
