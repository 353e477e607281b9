"""Two-factor state: the encrypted TOTP secret, replay guard and recovery codes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.store.schema import recovery_codes, users


class TwoFactorStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def state(self, user_id: int) -> tuple[str | None, bool]:
        """The user's encrypted secret (or None) and whether two-factor is on."""
        query = sa.select(users.c.totp_secret, users.c.totp_enabled).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None, False
        return row.totp_secret, bool(row.totp_enabled)

    async def start_enrolment(self, user_id: int, encrypted_secret: str) -> bool:
        """Keep a new, not yet confirmed secret; False if two-factor is already on."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(users.c.id == user_id, users.c.totp_enabled == sa.false())
                .values(totp_secret=encrypted_secret, totp_last_step=None)
            )
        return bool(result.rowcount)

    async def use_step(self, user_id: int, step: int) -> bool:
        """Accept TOTP step ``step`` once: False if it (or a later one) was used before.

        One conditional UPDATE, so two processes racing with the same code cannot
        both win.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(
                    users.c.id == user_id,
                    sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
        return bool(result.rowcount)

    async def enable(self, user_id: int, code_hashes: list[str], now: str) -> None:
        """Turn two-factor on with a fresh set of recovery codes (old ones are dropped)."""
        async with self._engine.begin() as conn:
            await conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
            await conn.execute(
                recovery_codes.insert(),
                [{"user_id": user_id, "code_hash": h, "created_at": now} for h in code_hashes],
            )
            await conn.execute(
                users.update().where(users.c.id == user_id).values(totp_enabled=True)
            )

    async def disable(self, user_id: int) -> None:
        """Turn two-factor off and forget the secret and every recovery code."""
        async with self._engine.begin() as conn:
            await conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
            await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(totp_secret=None, totp_enabled=False, totp_last_step=None)
            )

    async def spend_recovery_code(self, user_id: int, code_hash: str, now: str) -> bool:
        """Mark an unused recovery code used; False if there is no such unused code."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                recovery_codes.update()
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
        return bool(result.rowcount)

    async def recovery_codes_left(self, user_id: int) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
