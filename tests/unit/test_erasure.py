"""Erasing a prolific account: batches, the part after the answer, and resuming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.config import Settings
from parley.domain import lifecycle, retention
from parley.domain.context import Context
from parley.domain.models import Account, utc_now
from parley.store.slack import ImportedMessage, SlackImportStore
from tests.unit.contexts import local_context

COUNT = lifecycle.ERASE_BATCH * lifecycle.ERASE_INLINE_BATCHES + 700


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with local_context(Settings(data_dir=tmp_path)) as made:
        yield made


async def _prolific(ctx: Context, name: str) -> tuple[int, int]:
    """A user with COUNT messages in a room of their own (bulk-written); (user, room)."""
    user = await ctx.store.users.create(name, name, "x", utc_now())
    room = await ctx.store.rooms.create(f"{name}-room", "public", "", user.id, utc_now())
    bulk = SlackImportStore(ctx.store.engine)
    for start in range(0, COUNT, 2000):
        batch = [
            ImportedMessage(
                key=f"{name}:{i}", author_id=user.id, body=f"m{i}", created_at=utc_now()
            )
            for i in range(start, min(start + 2000, COUNT))
        ]
        await bulk.append(room.id, batch, utc_now())
    return user.id, room.id


async def _live(ctx: Context, room_id: int) -> int:
    page = await ctx.store.messages.page(room_id, before_seq=None, after_seq=0, limit=COUNT)
    return sum(not m.deleted for m in page)


async def test_a_prolific_account_is_erased_after_the_answer_in_batches(ctx: Context) -> None:
    admin = await ctx.store.users.create("boss", "Boss", "x", utc_now(), is_admin=True)
    user_id, room_id = await _prolific(ctx, "talker")
    await lifecycle.delete_user(ctx, Account(admin, "x", is_admin=True), user_id, messages="erase")
    # The answer came after the inline batches; the rest goes on in the background.
    assert ctx.lifecycle.erased == lifecycle.ERASE_BATCH * lifecycle.ERASE_INLINE_BATCHES
    assert len(ctx.lifecycle.erasing) == 1
    await asyncio.gather(*ctx.lifecycle.erasing)
    assert ctx.lifecycle.erased == COUNT
    assert await _live(ctx, room_id) == 0
    assert await ctx.store.lifecycle.erase_pending() == []


async def test_an_erasure_cut_short_is_finished_by_the_background_job(ctx: Context) -> None:
    user_id, room_id = await _prolific(ctx, "cutshort")
    # As if the process stopped right after the account was deleted.
    await ctx.store.lifecycle.delete_account(user_id, utc_now(), erase=True)
    assert await ctx.store.lifecycle.erase_pending() == [user_id]
    await retention.expire_once(ctx)
    assert await _live(ctx, room_id) == 0
    assert await ctx.store.lifecycle.erase_pending() == []
