"""Expired link previews no message shows are forgotten, with their images' bytes; a
preview a message still shows, or one not yet expired, stays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.config import Settings
from parley.domain import messaging, previews
from parley.domain.context import Context
from parley.domain.models import LinkPreview
from tests.unit.contexts import local_context

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def at(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def blob(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    settings = Settings(data_dir=tmp_path, previews=False)
    async with local_context(settings, clock=lambda: at(timedelta())) as made:
        yield made


async def test_stale_previews_go_with_their_images_and_shown_ones_stay(ctx: Context) -> None:
    assert ctx.blobs is not None
    user = await ctx.store.users.create("ana", "Ana", "x", at(timedelta()))
    room = await ctx.store.rooms.create("r", "public", "", user.id, at(timedelta()))
    message, _ = await messaging.post(ctx, user, room.id, "see https://example.org/shown")
    keys = {}
    for name, expires in (("stale", -1), ("shown", -1), ("fresh", 1)):
        saved = await ctx.blobs.save(blob(f"image of {name}".encode()))
        keys[name] = saved.key
        await ctx.store.previews.put(
            LinkPreview(
                name * 4, f"https://example.org/{name}", True, name, "", "", saved.key,
                "image/png", at(timedelta(days=-2)), at(timedelta(hours=expires)),
            )
        )  # fmt: skip
    assert await ctx.store.previews.attach(message.id, room.id, "shown" * 4)
    await previews.remove_stale(ctx)
    assert await ctx.store.previews.cached("stale" * 4) is None
    assert not await ctx.blobs.exists(keys["stale"])
    for kept in ("shown", "fresh"):
        assert await ctx.store.previews.cached(kept * 4) is not None
        assert await ctx.blobs.exists(keys[kept])
