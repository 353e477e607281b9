"""Notifications: push subscriptions, per-room levels, notification settings, digests,
and the server's own keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import (
    DigestItem,
    DigestReader,
    NotificationPrefs,
    PushSubscription,
    PushTarget,
)
from parley.store.mentions import mentions_user
from parley.store.schema import (
    memberships,
    messages,
    notification_prefs,
    push_subscriptions,
    rooms,
    server_keys,
    users,
)

PREF_FIELDS = (
    "hide_content",
    "email_digest",
    "dnd_until",
    "dnd_start",
    "dnd_end",
    "dnd_timezone",
    "digest_upto",
    "digest_sent_at",
)


def _subscription(row: Any) -> PushSubscription:
    return PushSubscription(
        id=row.id,
        user_id=row.user_id,
        endpoint=row.endpoint,
        p256dh=row.p256dh,
        auth=row.auth,
        user_agent=row.user_agent,
        created_at=row.created_at,
    )


def _prefs(row: Any) -> NotificationPrefs:
    if row is None:
        return NotificationPrefs()
    return NotificationPrefs(
        hide_content=bool(row.hide_content),
        email_digest=bool(row.email_digest),
        dnd_until=row.dnd_until,
        dnd_start=row.dnd_start,
        dnd_end=row.dnd_end,
        dnd_timezone=row.dnd_timezone,
        digest_upto=row.digest_upto,
        digest_sent_at=row.digest_sent_at,
    )


class NotificationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- push subscriptions -------------------------------------------------------------

    async def add_subscription(
        self,
        user_id: int,
        endpoint: str,
        endpoint_hash: str,
        p256dh: str,
        auth: str,
        user_agent: str,
        now: str,
        cap: int,
        session_id: str | None = None,
    ) -> PushSubscription:
        """Store the subscription, or take over the one with the same endpoint (a
        browser is one subscription, whoever signed in there last). Past ``cap`` of
        the person's subscriptions the oldest go."""
        values = dict(
            user_id=user_id,
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            user_agent=user_agent,
            session_id=session_id,
        )
        for _attempt in range(2):
            try:
                async with self._engine.begin() as conn:
                    found = (
                        await conn.execute(
                            sa.select(push_subscriptions.c.id).where(
                                push_subscriptions.c.endpoint_hash == endpoint_hash
                            )
                        )
                    ).scalar_one_or_none()
                    if found is None:
                        await conn.execute(
                            push_subscriptions.insert().values(
                                endpoint_hash=endpoint_hash, created_at=now, **values
                            )
                        )
                    else:
                        await conn.execute(
                            push_subscriptions.update()
                            .where(push_subscriptions.c.id == found)
                            .values(**values)
                        )
                    mine = list(
                        (
                            await conn.execute(
                                sa.select(push_subscriptions.c.id)
                                .where(push_subscriptions.c.user_id == user_id)
                                .order_by(push_subscriptions.c.id.desc())
                            )
                        ).scalars()
                    )
                    if len(mine) > cap:
                        await conn.execute(
                            push_subscriptions.delete().where(
                                push_subscriptions.c.id.in_(mine[cap:])
                            )
                        )
                    row = (
                        await conn.execute(
                            sa.select(push_subscriptions).where(
                                push_subscriptions.c.endpoint_hash == endpoint_hash
                            )
                        )
                    ).one()
                    return _subscription(row)
            except IntegrityError:
                continue  # the same endpoint inserted at once by another request: update it
        raise RuntimeError("push subscription could not be stored")

    async def subscriptions_of(self, user_ids: list[int]) -> list[PushSubscription]:
        if not user_ids:
            return []
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(push_subscriptions)
                .where(push_subscriptions.c.user_id.in_(user_ids))
                .order_by(push_subscriptions.c.id)
            )
            return [_subscription(r) for r in rows]

    async def delete_subscription(self, subscription_id: int, user_id: int | None = None) -> bool:
        """Delete one subscription (only if it is ``user_id``'s, when given)."""
        query = push_subscriptions.delete().where(push_subscriptions.c.id == subscription_id)
        if user_id is not None:
            query = query.where(push_subscriptions.c.user_id == user_id)
        async with self._engine.begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def subscriber_ids(self) -> set[int]:
        """Everyone with at least one subscription."""
        async with self._engine.connect() as conn:
            return {
                int(uid)
                for uid in (
                    await conn.execute(sa.select(push_subscriptions.c.user_id).distinct())
                ).scalars()
            }

    async def push_targets(self, room_id: int, author_id: int) -> list[PushTarget]:
        """The room's members with a push subscription (not the author, not disabled),
        with their level and mute."""
        subscribed = (
            sa.select(push_subscriptions.c.id)
            .where(push_subscriptions.c.user_id == memberships.c.user_id)
            .exists()
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(memberships.c.user_id, memberships.c.notify_level, memberships.c.muted)
                .join(users, users.c.id == memberships.c.user_id)
                .where(
                    memberships.c.room_id == room_id,
                    memberships.c.user_id != author_id,
                    users.c.disabled == sa.false(),
                    subscribed,
                )
            )
            return [PushTarget(r.user_id, r.notify_level, bool(r.muted)) for r in rows]

    # -- levels and settings ------------------------------------------------------------

    async def set_level(self, room_id: int, user_id: int, level: str | None) -> bool:
        """Set the member's level (None: the default); False if they are not a member."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                memberships.update()
                .where(memberships.c.room_id == room_id, memberships.c.user_id == user_id)
                .values(notify_level=level)
            )
        return bool(result.rowcount)

    async def levels_of(self, user_id: int) -> dict[int, str | None]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(memberships.c.room_id, memberships.c.notify_level).where(
                    memberships.c.user_id == user_id
                )
            )
            return {r.room_id: r.notify_level for r in rows}

    async def prefs(self, user_id: int) -> NotificationPrefs:
        return (await self.prefs_of([user_id])).get(user_id, NotificationPrefs())

    async def prefs_of(self, user_ids: list[int]) -> dict[int, NotificationPrefs]:
        if not user_ids:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(notification_prefs).where(notification_prefs.c.user_id.in_(user_ids))
            )
            return {r.user_id: _prefs(r) for r in rows}

    async def put_prefs(self, user_id: int, values: dict[str, Any]) -> None:
        """Change some settings (the others keep theirs, or the defaults)."""
        values = {k: v for k, v in values.items() if k in PREF_FIELDS}
        for _attempt in range(2):
            try:
                async with self._engine.begin() as conn:
                    changed = await conn.execute(
                        notification_prefs.update()
                        .where(notification_prefs.c.user_id == user_id)
                        .values(**values)
                    )
                    if not changed.rowcount:
                        await conn.execute(
                            notification_prefs.insert().values(user_id=user_id, **values)
                        )
                return
            except IntegrityError:
                continue  # inserted meanwhile by another request: update it
        raise RuntimeError("notification settings could not be stored")

    # -- digests ------------------------------------------------------------------------

    async def digest_readers(
        self, sent_before: str, after_id: int, limit: int
    ) -> list[DigestReader]:
        """People with a verified address and digests on whose last digest went before
        ``sent_before`` (or never): a page of ``limit``, by id, after ``after_id``."""
        query = (
            sa.select(
                users.c.id,
                users.c.email,
                users.c.display_name,
                *[notification_prefs.c[name] for name in PREF_FIELDS],
                notification_prefs.c.user_id.label("has_prefs"),
            )
            .select_from(
                users.outerjoin(notification_prefs, notification_prefs.c.user_id == users.c.id)
            )
            .where(
                users.c.id > after_id,
                users.c.email.is_not(None),
                users.c.email_verified_at.is_not(None),
                users.c.deleted_at.is_(None),
                users.c.disabled == sa.false(),
                sa.or_(
                    notification_prefs.c.user_id.is_(None),
                    sa.and_(
                        notification_prefs.c.email_digest == sa.true(),
                        sa.or_(
                            notification_prefs.c.digest_sent_at.is_(None),
                            notification_prefs.c.digest_sent_at < sent_before,
                        ),
                    ),
                ),
            )
            .order_by(users.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            DigestReader(
                user_id=r.id,
                email=r.email,
                display_name=r.display_name,
                prefs=_prefs(r) if r.has_prefs is not None else NotificationPrefs(),
            )
            for r in rows
        ]

    async def digest_items(
        self, user_id: int, after: str, upto: str, limit: int
    ) -> tuple[list[DigestItem], int]:
        """The person's unread mentions (by name or @room) and direct messages created
        in (``after``, ``upto``], in rooms whose level is not "nothing" and that are not
        muted: the first ``limit`` by time, and how many there are in all."""
        mine = memberships.alias("mine")
        author = users.alias("author")
        where = (
            mine.c.user_id == user_id,
            mine.c.muted == sa.false(),
            sa.or_(mine.c.notify_level.is_(None), mine.c.notify_level != "nothing"),
            messages.c.seq > mine.c.read_seq,
            messages.c.author_id != user_id,
            messages.c.deleted_at.is_(None),
            messages.c.created_at > after,
            messages.c.created_at <= upto,
            sa.or_(rooms.c.kind.in_(("dm", "group")), mentions_user(user_id)),
        )
        joined = (
            messages.join(rooms, rooms.c.id == messages.c.room_id)
            .join(mine, mine.c.room_id == messages.c.room_id)
            .join(author, author.c.id == messages.c.author_id)
        )
        async with self._engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(
                    rooms.c.id,
                    rooms.c.name,
                    rooms.c.kind,
                    messages.c.seq,
                    author.c.display_name,
                    messages.c.body,
                    messages.c.created_at,
                )
                .select_from(joined)
                .where(*where)
                .order_by(messages.c.created_at, messages.c.id)
                .limit(limit)
            )
            items = [
                DigestItem(
                    room_id=r.id,
                    room_name=r.name,
                    room_kind=r.kind,
                    seq=r.seq,
                    author=r.display_name,
                    body=r.body,
                    created_at=r.created_at,
                )
                for r in rows
            ]
        return items, int(total)

    # -- the server's keys --------------------------------------------------------------

    async def server_key(self, name: str, make: str, now: str) -> str:
        """The key ``name``, storing ``make`` first if there is none: every process that
        asks gets the one that was stored first."""
        async with self._engine.connect() as conn:
            found = (
                await conn.execute(sa.select(server_keys.c.value).where(server_keys.c.name == name))
            ).scalar_one_or_none()
        if found is not None:
            return str(found)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    server_keys.insert().values(name=name, value=make, created_at=now)
                )
            return make
        except IntegrityError:
            async with self._engine.connect() as conn:
                return str(
                    (
                        await conn.execute(
                            sa.select(server_keys.c.value).where(server_keys.c.name == name)
                        )
                    ).scalar_one()
                )
