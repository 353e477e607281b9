"""Passkeys: registered WebAuthn credentials, and the single-use challenges handed out."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import PasskeyRemoval, StoredPasskey
from parley.store.schema import passkey_challenges, passkeys, users


@dataclass(frozen=True, slots=True)
class Challenge:
    purpose: str
    user_id: int | None
    user_handle: str | None


def _passkey(row: sa.Row[tuple[object, ...]]) -> StoredPasskey:
    return StoredPasskey(
        id=int(row.id),
        user_id=int(row.user_id),
        credential_id=row.credential_id,
        public_key=bytes(row.public_key),
        sign_count=int(row.sign_count),
        user_handle=row.user_handle,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class PasskeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- challenges ------------------------------------------------------------------

    async def add_challenge(
        self,
        challenge_hash: str,
        purpose: str,
        expires_at: str,
        now: str,
        *,
        user_id: int | None = None,
        user_handle: str | None = None,
    ) -> None:
        """Keep a challenge until ``expires_at``; expired ones are swept out first."""
        async with self._engine.begin() as conn:
            await conn.execute(
                passkey_challenges.delete().where(passkey_challenges.c.expires_at <= now)
            )
            await conn.execute(
                passkey_challenges.insert().values(
                    challenge_hash=challenge_hash,
                    purpose=purpose,
                    user_id=user_id,
                    user_handle=user_handle,
                    expires_at=expires_at,
                )
            )

    async def take_challenge(
        self, challenge_hash: str, purpose: str, now: str, *, user_id: int | None = None
    ) -> Challenge | None:
        """Spend a live challenge of ``purpose`` (for ``user_id``, when given), or None.

        One DELETE ... RETURNING: of two requests answering the same challenge, on any
        number of processes, only one gets it.
        """
        conditions = [
            passkey_challenges.c.challenge_hash == challenge_hash,
            passkey_challenges.c.purpose == purpose,
            passkey_challenges.c.expires_at > now,
        ]
        if user_id is not None:
            conditions.append(passkey_challenges.c.user_id == user_id)
        statement = (
            passkey_challenges.delete()
            .where(*conditions)
            .returning(passkey_challenges.c.user_id, passkey_challenges.c.user_handle)
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return Challenge(purpose=purpose, user_id=row.user_id, user_handle=row.user_handle)

    # -- credentials -----------------------------------------------------------------

    async def for_user(self, user_id: int) -> list[StoredPasskey]:
        query = sa.select(passkeys).where(passkeys.c.user_id == user_id).order_by(passkeys.c.id)
        async with self._engine.connect() as conn:
            return [_passkey(row) for row in await conn.execute(query)]

    async def by_credential_id(self, credential_id: str) -> StoredPasskey | None:
        query = sa.select(passkeys).where(passkeys.c.credential_id == credential_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _passkey(row)

    async def count(self, user_id: int) -> int:
        query = (
            sa.select(sa.func.count()).select_from(passkeys).where(passkeys.c.user_id == user_id)
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def add(
        self,
        user_id: int,
        credential_id: str,
        public_key: bytes,
        sign_count: int,
        user_handle: str,
        name: str,
        now: str,
    ) -> StoredPasskey | None:
        """Store a new credential; None if that credential id is registered already."""
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    passkeys.insert()
                    .values(
                        user_id=user_id,
                        credential_id=credential_id,
                        public_key=public_key,
                        sign_count=sign_count,
                        user_handle=user_handle,
                        name=name,
                        created_at=now,
                    )
                    .returning(passkeys)
                )
                row = result.one()
        except sa.exc.IntegrityError:
            return None
        return _passkey(row)

    async def record_use(self, passkey_id: int, old_count: int, new_count: int, now: str) -> bool:
        """Move the signature counter on after a use; False if another use got there first.

        Conditional on the count read before verifying, so two assertions checked at
        once against the same count cannot both pass.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                passkeys.update()
                .where(passkeys.c.id == passkey_id, passkeys.c.sign_count == old_count)
                .values(sign_count=new_count, last_used_at=now)
            )
        return bool(result.rowcount)

    async def rename(self, user_id: int, passkey_id: int, name: str) -> StoredPasskey | None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    passkeys.update()
                    .where(passkeys.c.id == passkey_id, passkeys.c.user_id == user_id)
                    .values(name=name)
                    .returning(passkeys)
                )
            ).first()
        return None if row is None else _passkey(row)

    async def remove(self, user_id: int, passkey_id: int, *, keep_one: bool) -> PasskeyRemoval:
        """Delete one of the user's passkeys; with ``keep_one``, never the last one.

        The count and the delete are one statement, under a lock on the user's row on
        PostgreSQL, so two deletes at once cannot remove the last two together.
        """
        others = (
            sa.select(sa.func.count())
            .select_from(passkeys)
            .where(passkeys.c.user_id == user_id, passkeys.c.id != passkey_id)
            .scalar_subquery()
        )
        conditions = [passkeys.c.id == passkey_id, passkeys.c.user_id == user_id]
        if keep_one:
            conditions.append(others > 0)
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    sa.select(users.c.id).where(users.c.id == user_id).with_for_update()
                )
            result = await conn.execute(passkeys.delete().where(*conditions))
            if result.rowcount:
                return PasskeyRemoval.REMOVED
            exists = await conn.execute(
                sa.select(passkeys.c.id).where(
                    passkeys.c.id == passkey_id, passkeys.c.user_id == user_id
                )
            )
            return (
                PasskeyRemoval.LAST_ONE if exists.first() is not None else PasskeyRemoval.NOT_FOUND
            )
