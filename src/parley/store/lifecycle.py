"""Deleting accounts, erasing and expiring messages in batches, and job leases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import (
    DELETED_NAME,
    DeletedAccount,
    Tombstoned,
    Tombstones,
    deleted_username,
)
from parley.store.schema import (
    avatars,
    custom_emoji,
    job_leases,
    memberships,
    message_files,
    message_mentions,
    message_previews,
    messages,
    notification_prefs,
    oidc_links,
    passkey_challenges,
    passkeys,
    push_subscriptions,
    reactions,
    recovery_codes,
    room_bans,
    room_invites,
    rooms,
    saved_messages,
    sessions,
    thread_follows,
    users,
    webhooks,
)


async def tombstone(conn: AsyncConnection, ids: list[int], now: str) -> Tombstones:
    """Make the messages ``ids`` tombstones exactly as a delete does (store/edits.py):
    empty body, no files, reactions or mentions; their seq stays, never reused."""
    found = Tombstones()
    if not ids:
        return found
    # Only rows still live, decided by the UPDATE itself: two processes tombstoning the
    # same message (a retention pass overrunning its lease) announce it once.
    rows = (
        await conn.execute(
            messages.update()
            .where(messages.c.id.in_(ids), messages.c.deleted_at.is_(None))
            .values(body="", file_names=None, deleted_at=now, mentions_room=False)
            .returning(messages.c.id, messages.c.room_id, messages.c.seq)
        )
    ).all()
    live = [r.id for r in rows]
    if not live:
        return found
    found.messages = sorted(
        (Tombstoned(r.id, r.room_id, r.seq) for r in rows), key=lambda t: (t.room_id, t.seq)
    )
    found.file_ids = sorted(
        {
            str(file_id)
            for file_id in (
                await conn.execute(
                    sa.select(message_files.c.file_id).where(message_files.c.message_id.in_(live))
                )
            ).scalars()
        }
    )
    await conn.execute(message_mentions.delete().where(message_mentions.c.message_id.in_(live)))
    await conn.execute(reactions.delete().where(reactions.c.message_id.in_(live)))
    await conn.execute(message_files.delete().where(message_files.c.message_id.in_(live)))
    await conn.execute(message_previews.delete().where(message_previews.c.message_id.in_(live)))
    return found


# Not an argon2 hash: no password ever matches.
NO_PASSWORD = "!deleted"


class LifecycleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # --- accounts ---------------------------------------------------------------------

    async def active_admin_count(self) -> int:
        query = sa.select(sa.func.count()).where(
            users.c.is_admin == sa.true(),
            users.c.disabled == sa.false(),
            users.c.deleted_at.is_(None),
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def is_deleted(self, user_id: int) -> bool:
        query = sa.select(users.c.deleted_at).where(users.c.id == user_id)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none() is not None

    async def delete_account(self, user_id: int, now: str, *, erase: bool) -> DeletedAccount:
        """Delete the account in one transaction: its name, credentials, sessions,
        memberships, reactions, bans, invites, passkeys, two-factor, OpenID links, bots,
        followed threads, saved messages, push subscriptions, notification settings,
        email address, the webhooks it made, its profile, status and avatar
        (``avatar_keys``: the blobs to delete unless used elsewhere). The row stays as the
        author of the messages kept.

        A room it owned goes to its longest-standing admin, else its longest-standing
        member; a room left with no member is archived. With ``erase`` the account is
        marked for :meth:`erase_batch`, which the domain runs a batch at a time.
        """
        async with self._engine.begin() as conn:
            bot_ids = list(
                (
                    await conn.execute(
                        sa.select(users.c.id).where(
                            users.c.bot_owner_id == user_id, users.c.deleted_at.is_(None)
                        )
                    )
                ).scalars()
            )
            hook_bots = list(
                (
                    await conn.execute(
                        sa.select(webhooks.c.bot_user_id).where(webhooks.c.created_by == user_id)
                    )
                ).scalars()
            )
            everyone = [user_id, *bot_ids, *hook_bots]
            session_ids = list(
                (
                    await conn.execute(
                        sa.select(sessions.c.id).where(sessions.c.user_id.in_(everyone))
                    )
                ).scalars()
            )
            await conn.execute(webhooks.delete().where(webhooks.c.created_by == user_id))
            await conn.execute(sessions.delete().where(sessions.c.user_id.in_(everyone)))
            result = DeletedAccount(user_ids=[user_id, *bot_ids], session_ids=session_ids)
            for member_id in everyone:
                await self._leave_everything(conn, member_id, now, result)
            for table in (
                reactions,
                message_mentions,
                room_bans,
                recovery_codes,
                passkeys,
                thread_follows,
                saved_messages,
                push_subscriptions,
                notification_prefs,
            ):
                await conn.execute(table.delete().where(table.c.user_id.in_(everyone)))
            await conn.execute(
                passkey_challenges.delete().where(passkey_challenges.c.user_id.in_(everyone))
            )
            await conn.execute(oidc_links.delete().where(oidc_links.c.user_id.in_(everyone)))
            await conn.execute(room_invites.delete().where(room_invites.c.created_by == user_id))
            # The avatar's rows go; the domain deletes its bytes once nothing uses them.
            result.avatar_keys = sorted(
                {
                    str(k)
                    for k in (
                        await conn.execute(
                            sa.select(avatars.c.blob_key).where(avatars.c.user_id.in_(everyone))
                        )
                    ).scalars()
                }
            )
            await conn.execute(avatars.delete().where(avatars.c.user_id.in_(everyone)))
            # Custom emoji stay (others use them), no longer named as the account's.
            await conn.execute(
                custom_emoji.update()
                .where(custom_emoji.c.created_by.in_(everyone))
                .values(created_by=None)
            )
            for gone in everyone:
                await conn.execute(
                    users.update()
                    .where(users.c.id == gone)
                    .values(
                        username=deleted_username(gone),
                        username_key=deleted_username(gone),
                        display_name=DELETED_NAME,
                        password_hash=NO_PASSWORD,
                        is_admin=False,
                        disabled=True,
                        totp_secret=None,
                        totp_enabled=False,
                        totp_last_step=None,
                        email=None,
                        email_verified_at=None,
                        deleted_at=now,
                        erase_pending=erase and gone == user_id,
                        pronouns="",
                        title="",
                        timezone="",
                        avatar_version=None,
                        status=None,
                        status_text="",
                        status_expires_at=None,
                    )
                )
        return result

    async def _leave_everything(
        self, conn: AsyncConnection, user_id: int, now: str, result: DeletedAccount
    ) -> None:
        # Direct-message rooms keep the membership: the other person's DM then still
        # names its peer ("Deleted user") instead of turning into their own notes; it
        # is archived (read-only), as nobody will read what is sent there.
        dms = list(
            (
                await conn.execute(
                    sa.select(rooms.c.id)
                    .join(memberships, memberships.c.room_id == rooms.c.id)
                    .where(
                        memberships.c.user_id == user_id,
                        rooms.c.kind == "dm",
                        rooms.c.archived_at.is_(None),
                    )
                )
            ).scalars()
        )
        if dms:
            await conn.execute(rooms.update().where(rooms.c.id.in_(dms)).values(archived_at=now))
            result.archived += [int(i) for i in dms]
        mine = (
            await conn.execute(
                sa.select(memberships.c.room_id, memberships.c.role)
                .join(rooms, rooms.c.id == memberships.c.room_id)
                .where(memberships.c.user_id == user_id, rooms.c.kind != "dm")
            )
        ).all()
        if mine:
            await conn.execute(
                memberships.delete().where(
                    memberships.c.user_id == user_id,
                    memberships.c.room_id.in_([room_id for room_id, _ in mine]),
                )
            )
        for room_id, role in mine:
            result.left.append(room_id)
            if role != "owner":
                continue
            heir = (
                await conn.execute(
                    sa.select(memberships.c.user_id)
                    .where(memberships.c.room_id == room_id)
                    .order_by(
                        sa.case((memberships.c.role == "admin", 0), else_=1),
                        memberships.c.joined_at,
                        memberships.c.user_id,
                    )
                    .limit(1)
                )
            ).scalar_one_or_none()
            if heir is None:
                await conn.execute(
                    rooms.update()
                    .where(rooms.c.id == room_id, rooms.c.archived_at.is_(None))
                    .values(archived_at=now)
                )
                result.archived.append(room_id)
                continue
            await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == heir)
                .values(role="owner")
            )
            result.new_owners.append((room_id, int(heir)))

    async def erase_pending(self) -> list[int]:
        """Deleted accounts whose messages are still being erased."""
        query = sa.select(users.c.id).where(users.c.erase_pending == sa.true())
        async with self._engine.connect() as conn:
            return [int(i) for i in (await conn.execute(query)).scalars()]

    async def erase_batch(self, author_id: int, now: str, limit: int) -> Tombstones:
        """Tombstone up to ``limit`` of the author's messages not yet deleted; when none
        is left, the account's erasure is done (its flag cleared)."""
        async with self._engine.begin() as conn:
            ids = list(
                (
                    await conn.execute(
                        sa.select(messages.c.id)
                        .where(messages.c.author_id == author_id, messages.c.deleted_at.is_(None))
                        .order_by(messages.c.id)
                        .limit(limit)
                    )
                ).scalars()
            )
            if not ids:
                await conn.execute(
                    users.update().where(users.c.id == author_id).values(erase_pending=False)
                )
            return await tombstone(conn, ids, now)

    # --- retention --------------------------------------------------------------------

    async def rooms_to_expire(self, default_days: int | None) -> list[tuple[int, int]]:
        """(room id, days) of every room with a retention period: its own, or the
        server's default when it has none."""
        days: sa.ColumnElement[Any] = rooms.c.retention_days
        if default_days:
            days = sa.func.coalesce(rooms.c.retention_days, default_days)
        query = sa.select(rooms.c.id, days.label("days")).where(days.is_not(None))
        async with self._engine.connect() as conn:
            return [(int(r.id), int(r.days)) for r in await conn.execute(query) if r.days]

    async def expire_batch(self, room_id: int, cutoff: str, now: str, limit: int) -> Tombstones:
        """Tombstone up to ``limit`` of the room's messages created before ``cutoff``."""
        async with self._engine.begin() as conn:
            ids = list(
                (
                    await conn.execute(
                        sa.select(messages.c.id)
                        .where(
                            messages.c.room_id == room_id,
                            messages.c.created_at < cutoff,
                            messages.c.deleted_at.is_(None),
                        )
                        .order_by(messages.c.seq)
                        .limit(limit)
                    )
                ).scalars()
            )
            return await tombstone(conn, ids, now)

    async def take_lease(self, name: str, holder: str, now: str, until: str) -> bool:
        """Hold the job ``name`` until ``until`` if nobody else holds it now (or this
        holder already does). One row per job, taken by an UPDATE whose WHERE only one
        process can satisfy: safe with several processes on either engine."""
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                job_leases.update()
                .where(
                    job_leases.c.name == name,
                    sa.or_(job_leases.c.expires_at < now, job_leases.c.holder == holder),
                )
                .values(holder=holder, expires_at=until)
            )
            if taken.rowcount:
                return True
            exists = (
                await conn.execute(sa.select(job_leases.c.name).where(job_leases.c.name == name))
            ).first()
            if exists is not None:
                return False
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    job_leases.insert().values(name=name, holder=holder, expires_at=until)
                )
        except sa.exc.IntegrityError:
            return False  # another process inserted it first
        return True
