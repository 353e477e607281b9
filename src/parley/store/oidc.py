"""OpenID Connect: identities linked to accounts, and sign-ins in progress."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import OidcLink, PendingOidcLogin, User
from parley.errors import Conflict
from parley.store.schema import oidc_links, oidc_logins, users
from parley.store.users import USER_COLUMNS, insert_user, user_from_row


class OidcStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start_login(
        self, state_hash: str, pending: PendingOidcLogin, address: str, expired_before: str
    ) -> None:
        """Keep a sign-in in progress, forgetting those begun before ``expired_before``."""
        async with self._engine.begin() as conn:
            await conn.execute(
                oidc_logins.delete().where(oidc_logins.c.created_at < expired_before)
            )
            await conn.execute(
                oidc_logins.insert().values(
                    state_hash=state_hash,
                    provider=pending.provider,
                    browser_hash=pending.browser_hash,
                    nonce=pending.nonce,
                    code_verifier=pending.code_verifier,
                    link_user_id=pending.link_user_id,
                    address=address,
                    created_at=pending.created_at,
                )
            )

    async def pending_count(self, since: str, address: str | None = None) -> int:
        """Sign-ins begun since ``since`` (from ``address``, when given)."""
        query = sa.select(sa.func.count()).select_from(oidc_logins)
        query = query.where(oidc_logins.c.created_at >= since)
        if address is not None:
            query = query.where(oidc_logins.c.address == address)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def take_login(self, state_hash: str) -> PendingOidcLogin | None:
        """The sign-in begun with this state, removed so that it can finish only once.

        The conditional DELETE decides: of two requests racing with one state, one wins.
        """
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(oidc_logins).where(oidc_logins.c.state_hash == state_hash)
                )
            ).first()
            if row is None:
                return None
            gone = await conn.execute(
                oidc_logins.delete().where(oidc_logins.c.state_hash == state_hash)
            )
            if gone.rowcount != 1:
                return None
        return PendingOidcLogin(
            provider=row.provider,
            browser_hash=row.browser_hash,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            link_user_id=row.link_user_id,
            created_at=row.created_at,
        )

    async def linked_user(self, issuer: str, subject: str) -> int | None:
        query = sa.select(oidc_links.c.user_id).where(
            oidc_links.c.issuer == issuer, oidc_links.c.subject == subject
        )
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return int(found) if found is not None else None

    async def link(self, issuer: str, subject: str, user_id: int, now: str) -> None:
        """Link the identity to the account; Conflict if either is linked already."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    oidc_links.insert().values(
                        issuer=issuer, subject=subject, user_id=user_id, created_at=now
                    )
                )
        except IntegrityError as exc:
            raise Conflict(
                "That account is already linked to this provider.", code="oidc_already_linked"
            ) from exc

    async def create_linked_user(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        issuer: str,
        subject: str,
        now: str,
    ) -> User:
        """A new account and its link, in one transaction: both or neither.

        Raises Conflict ``username_taken`` (try another name) or ``oidc_already_linked``
        (another sign-in with the same identity created its account first).
        """
        try:
            async with self._engine.begin() as conn:
                user_id = await insert_user(conn, username, display_name, password_hash, now)
                await conn.execute(
                    oidc_links.insert().values(
                        issuer=issuer, subject=subject, user_id=user_id, created_at=now
                    )
                )
                row = (
                    await conn.execute(sa.select(*USER_COLUMNS).where(users.c.id == user_id))
                ).one()
        except IntegrityError as exc:
            if "username" in str(exc.orig).lower():
                raise Conflict("That username is taken.", code="username_taken") from exc
            raise Conflict(
                "That identity is already linked to an account.", code="oidc_already_linked"
            ) from exc
        return user_from_row(row)

    async def links_of(self, user_id: int) -> list[OidcLink]:
        query = (
            sa.select(oidc_links.c.issuer, oidc_links.c.subject, oidc_links.c.created_at)
            .where(oidc_links.c.user_id == user_id)
            .order_by(oidc_links.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [OidcLink(r.issuer, r.subject, r.created_at) for r in rows]

    async def unlink(self, user_id: int, issuer: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                oidc_links.delete().where(
                    oidc_links.c.user_id == user_id, oidc_links.c.issuer == issuer
                )
            )
        return bool(result.rowcount)
