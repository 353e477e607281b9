"""The cleanup of uploads never attached to a message, driven by a test clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.blobs.base import BlobStore
from parley.blobs.local import LocalBlobStore
from parley.blobs.s3 import S3BlobStore
from parley.config import Settings
from parley.domain import files, messaging
from parley.domain.context import Context
from parley.domain.models import User
from tests.s3_support import S3Server
from tests.unit.contexts import local_context

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    proc = S3Server().start()
    yield proc
    proc.stop()


@pytest.fixture(params=["local", "s3"])
async def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Context, Clock, User]]:
    """The same cleanup on the local folder and on an S3 bucket (moto)."""
    settings = Settings(data_dir=tmp_path)
    blobs: BlobStore
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3")
        bucket = f"cleanup-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(bucket)
        blobs = S3BlobStore(f"s3://{bucket}/blobs", client=s3.client())
    else:
        blobs = LocalBlobStore(settings.uploads_dir)
    clock = Clock()
    async with local_context(settings, blobs, clock=clock) as ctx:
        user = await ctx.store.users.create("ana", "Ana", "x", clock())
        yield ctx, clock, user


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_an_upload_never_posted_is_removed_after_a_day_with_its_bytes(setup):
    ctx, clock, user = setup
    file = await files.upload(ctx, user, "draft.txt", chunks(b"never ", b"sent"))
    record = await ctx.store.files.get(file.id)
    assert record is not None
    assert await ctx.blobs.exists(record.blob_key)

    clock.now = START + files.UNATTACHED_MAX_AGE - timedelta(minutes=1)
    assert await files.remove_unattached(ctx) == 0
    assert await ctx.store.files.get(file.id) is not None

    clock.now = START + files.UNATTACHED_MAX_AGE + timedelta(minutes=1)
    assert await files.remove_unattached(ctx) == 1
    assert await ctx.store.files.get(file.id) is None
    assert not await ctx.blobs.exists(record.blob_key)


async def test_a_posted_file_stays_and_so_do_bytes_another_file_shares(setup):
    ctx, clock, user = setup
    room = await ctx.store.rooms.create("general", "public", "", user.id, clock())
    posted = await files.upload(ctx, user, "kept.txt", chunks(b"same bytes"))
    draft = await files.upload(ctx, user, "draft.txt", chunks(b"same bytes"))
    await messaging.post(ctx, user, room.id, "", "c1", attachments=[posted.id])

    clock.now = START + timedelta(days=3)
    assert await files.remove_unattached(ctx) == 1
    assert await ctx.store.files.get(draft.id) is None
    kept = await ctx.store.files.get(posted.id)
    assert kept is not None
    assert await ctx.blobs.exists(kept.blob_key)
