"""Site administration: server settings, the audit log, password-reset links, and the
admin console's lists of people and rooms."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import AuditRow, PersonRow, RoomRow
from parley.store.schema import (
    audit_log,
    memberships,
    messages,
    password_resets,
    rooms,
    server_settings,
    sessions,
    users,
)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AdminStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- server settings --------------------------------------------------------------

    async def settings(self) -> dict[str, str]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(server_settings))).all()
        return {r.name: r.value for r in rows}

    async def put_settings(self, values: dict[str, str], now: str) -> None:
        """Write these settings (name to JSON text), replacing what was there."""
        async with self._engine.begin() as conn:
            for name, value in values.items():
                await conn.execute(server_settings.delete().where(server_settings.c.name == name))
                await conn.execute(
                    server_settings.insert().values(name=name, value=value, updated_at=now)
                )

    # -- audit log --------------------------------------------------------------------

    async def add_audit(self, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(audit_log.insert().values(**values))

    async def audit(
        self,
        *,
        actor: str | None,
        action: str | None,
        since: str | None,
        until: str | None,
        before_id: int | None,
        limit: int,
    ) -> list[AuditRow]:
        """Entries newest first. ``actor`` is a user name (any case) or an id;
        ``action`` an exact action or a prefix ending in a dot ("admin.")."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if actor:
            if actor.isdigit():
                query = query.where(audit_log.c.actor_id == int(actor))
            else:
                query = query.where(sa.func.lower(audit_log.c.actor_name) == actor.lower())
        if action:
            if action.endswith("."):
                query = query.where(audit_log.c.action.startswith(action, autoescape=True))
            else:
                query = query.where(audit_log.c.action == action)
        if since:
            query = query.where(audit_log.c.at >= since)
        if until:
            query = query.where(audit_log.c.at < until)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditRow(
                id=r.id,
                at=r.at,
                actor_id=r.actor_id,
                actor_name=r.actor_name,
                action=r.action,
                target=r.target,
                address=r.address,
                detail=r.detail,
            )
            for r in rows
        ]

    async def delete_audit_before(self, at: str) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(audit_log.delete().where(audit_log.c.at < at))
        return int(result.rowcount or 0)

    # -- password-reset links ---------------------------------------------------------

    async def add_reset(
        self, token_hash: str, user_id: int, created_by: int | None, now: str, expires_at: str
    ) -> None:
        """Store a new link; the user's older unused links stop working."""
        async with self._engine.begin() as conn:
            await conn.execute(
                password_resets.delete().where(
                    password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None)
                )
            )
            await conn.execute(
                password_resets.insert().values(
                    token_hash=token_hash,
                    user_id=user_id,
                    created_by=created_by,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def reset_user(self, token_hash: str, now: str) -> int | None:
        """The user of an unused, unexpired link, or None."""
        query = sa.select(password_resets.c.user_id).where(
            password_resets.c.token_hash == token_hash,
            password_resets.c.used_at.is_(None),
            password_resets.c.expires_at > now,
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def spend_reset(self, token_hash: str, password_hash: str, now: str) -> int | None:
        """Spend a link and set its user's password, in one transaction; the user id, or
        None if the link is unknown, spent (even by a request racing this one) or expired."""
        async with self._engine.begin() as conn:
            spent = await conn.execute(
                password_resets.update()
                .where(
                    password_resets.c.token_hash == token_hash,
                    password_resets.c.used_at.is_(None),
                    password_resets.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(password_resets.c.user_id)
            )
            user_id = spent.scalar_one_or_none()
            if user_id is None:
                return None
            await conn.execute(
                users.update().where(users.c.id == user_id).values(password_hash=password_hash)
            )
        return int(user_id)

    async def user_by_verified_email(self, email: str) -> int | None:
        """The account whose verified address this is (any case), or None."""
        query = (
            sa.select(users.c.id)
            .where(
                sa.func.lower(users.c.email) == email.lower(),
                users.c.email_verified_at.is_not(None),
            )
            .limit(1)
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def delete_resets_before(self, at: str) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                password_resets.delete().where(password_resets.c.expires_at < at)
            )
        return int(result.rowcount or 0)

    # -- people and rooms -------------------------------------------------------------

    async def people(self, q: str, limit: int, offset: int) -> list[PersonRow]:
        """People (not bots) whose username or display name contains ``q``, by name."""
        last_seen = (
            sa.select(sa.func.max(sessions.c.last_seen_at))
            .where(sessions.c.user_id == users.c.id)
            .scalar_subquery()
        )
        query = (
            sa.select(
                users.c.id,
                users.c.username,
                users.c.display_name,
                users.c.created_at,
                users.c.is_admin,
                users.c.disabled,
                users.c.totp_enabled,
                last_seen.label("last_seen_at"),
            )
            .where(users.c.is_bot == sa.false())
            .order_by(users.c.username_key)
            .limit(limit)
            .offset(offset)
        )
        if q:
            pattern = _like(q)
            query = query.where(
                sa.or_(
                    users.c.username_key.like(pattern, escape="\\"),
                    sa.func.lower(users.c.display_name).like(pattern, escape="\\"),
                )
            )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            PersonRow(
                id=r.id,
                username=r.username,
                display_name=r.display_name,
                created_at=r.created_at,
                is_admin=bool(r.is_admin),
                disabled=bool(r.disabled),
                totp_enabled=bool(r.totp_enabled),
                last_seen_at=r.last_seen_at,
            )
            for r in rows
        ]

    async def active_admin_count(self) -> int:
        query = sa.select(sa.func.count()).where(
            users.c.is_admin == sa.true(),
            users.c.disabled == sa.false(),
            users.c.is_bot == sa.false(),
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def rooms(self, q: str, limit: int, offset: int) -> list[RoomRow]:
        """Channels (not direct messages), most recently active first."""
        member_count = (
            sa.select(sa.func.count()).where(memberships.c.room_id == rooms.c.id).scalar_subquery()
        )
        last_at = (
            sa.select(messages.c.created_at)
            .where(messages.c.room_id == rooms.c.id, messages.c.seq == rooms.c.last_seq)
            .scalar_subquery()
        )
        owner = memberships.alias("owner")
        owners = users.alias("owners")
        query = (
            sa.select(
                rooms.c.id,
                rooms.c.name,
                rooms.c.visibility,
                rooms.c.created_at,
                rooms.c.archived_at,
                rooms.c.last_seq,
                member_count.label("member_count"),
                last_at.label("last_at"),
                owners.c.id.label("owner_id"),
                owners.c.username.label("owner_username"),
            )
            .select_from(
                rooms.outerjoin(
                    owner, sa.and_(owner.c.room_id == rooms.c.id, owner.c.role == "owner")
                ).outerjoin(owners, owners.c.id == owner.c.user_id)
            )
            .where(rooms.c.kind == "channel")
            .order_by(rooms.c.last_seq.desc(), rooms.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if q:
            query = query.where(sa.func.lower(rooms.c.name).like(_like(q), escape="\\"))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            RoomRow(
                id=r.id,
                name=r.name,
                visibility=r.visibility,
                created_at=r.created_at,
                archived_at=r.archived_at,
                member_count=int(r.member_count),
                message_count=int(r.last_seq),
                last_activity_at=r.last_at,
                owner_id=r.owner_id,
                owner_username=r.owner_username,
            )
            for r in rows
        ]

    async def set_owner(self, room_id: int, user_id: int, now: str) -> list[tuple[int, str]]:
        """Make ``user_id`` the room's owner (adding them if they are not a member); the
        old owner becomes an admin. The role changes made, as (user id, role)."""
        changes: list[tuple[int, str]] = []
        async with self._engine.begin() as conn:
            old = list(
                (
                    await conn.execute(
                        sa.select(memberships.c.user_id).where(
                            memberships.c.room_id == room_id, memberships.c.role == "owner"
                        )
                    )
                ).scalars()
            )
            for old_id in old:
                if old_id != user_id:
                    await conn.execute(
                        memberships.update()
                        .where(memberships.c.room_id == room_id, memberships.c.user_id == old_id)
                        .values(role="admin")
                    )
                    changes.append((old_id, "admin"))
            updated = await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
                .values(role="owner")
            )
            if not updated.rowcount:
                last_seq = (
                    await conn.execute(sa.select(rooms.c.last_seq).where(rooms.c.id == room_id))
                ).scalar_one()
                await conn.execute(
                    memberships.insert().values(
                        room_id=room_id,
                        user_id=user_id,
                        role="owner",
                        joined_at=now,
                        read_seq=last_seq,
                    )
                )
            changes.append((user_id, "owner"))
        return changes
