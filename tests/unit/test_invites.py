"""Invite expiry, with a clock the test controls."""

from __future__ import annotations

import pytest

from parley.bus.local import LocalBus
from parley.config import Settings
from parley.domain import invites
from parley.domain.context import Context
from parley.domain.presence import LocalPresence
from parley.domain.ratelimit import RateLimits
from parley.store import Store


def _ctx(store: Store, now: str) -> Context:
    return Context(
        settings=Settings(),
        store=store,
        bus=LocalBus(),
        presence=LocalPresence(),
        limits=RateLimits(0, 100),
        clock=lambda: now,
    )


async def test_an_invite_works_until_it_expires_and_not_after(store: Store) -> None:
    t0 = "2026-01-01T10:00:00.000000Z"
    ana = await store.users.create("ana", "Ana", "x", t0)
    ben = await store.users.create("ben", "Ben", "x", t0)
    cat = await store.users.create("cat", "Cat", "x", t0)
    room = await store.rooms.create("r", "private", "", ana.id, t0)
    invite = await invites.create_invite(_ctx(store, t0), ana, room.id, 3600)
    assert invite.expires_at == "2026-01-01T11:00:00.000000Z"
    joined = await invites.accept(_ctx(store, "2026-01-01T10:59:59.000000Z"), ben, invite.code)
    assert joined.id == room.id
    with pytest.raises(invites.InviteExpired):
        await invites.accept(_ctx(store, "2026-01-01T11:00:00.000000Z"), cat, invite.code)
    assert await store.memberships.role_of(room.id, cat.id) is None
