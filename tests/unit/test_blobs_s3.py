"""The S3 blob store against moto's S3 API: content-addressed, multipart, ranged reads,
nothing kept on failure, partial uploads swept."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from parley.blobs.base import BlobUnavailable, parse_s3_url
from parley.blobs.s3 import PART_BYTES, S3BlobStore
from tests.s3_support import S3Server

MB = 1024 * 1024


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    proc = S3Server().start()
    yield proc
    proc.stop()


@pytest.fixture
def store(s3: S3Server) -> Iterator[S3BlobStore]:
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    found = S3BlobStore(f"s3://{bucket}/pre/fix/", client=s3.client())
    found.prepare()
    yield found
    found.close()


async def stream(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise RuntimeError("client went away")


def test_an_s3_url_names_a_bucket_and_a_prefix():
    assert parse_s3_url("s3://my-bucket") == ("my-bucket", "")
    assert parse_s3_url("s3://my-bucket/a/b/") == ("my-bucket", "a/b/")
    for bad in ("s3://", "s3://UPPER/x", "http://bucket/x", "s3://a"):
        with pytest.raises(ValueError, match="s3://bucket/prefix"):
            parse_s3_url(bad)


async def test_small_bytes_go_in_one_put_under_their_hash_and_read_back_by_range(
    store: S3BlobStore, s3: S3Server
):
    saved = await store.save(stream(b"hello ", b"world"))
    assert saved.key == hashlib.sha256(b"hello world").hexdigest()
    assert saved.size == 11
    assert s3.keys(store.bucket) == [f"pre/fix/{saved.key[:2]}/{saved.key[2:4]}/{saved.key}"]
    assert b"".join([c async for c in store.open_range(saved.key)]) == b"hello world"
    assert b"".join([c async for c in store.open_range(saved.key, 6, 10)]) == b"world"
    assert await store.size(saved.key) == 11
    assert await store.save(stream(b"hello world")) == saved
    await store.delete(saved.key)
    assert not await store.exists(saved.key)
    await store.delete(saved.key)  # twice is fine
    with pytest.raises(FileNotFoundError):
        _ = [c async for c in store.open_range(saved.key)]


async def test_a_big_stream_goes_in_parts_and_only_its_hash_key_remains(
    store: S3BlobStore, s3: S3Server
):
    data = os.urandom(PART_BYTES * 2 + 123)
    saved = await store.save(stream(*[data[i : i + MB] for i in range(0, len(data), MB)]))
    assert saved.key == hashlib.sha256(data).hexdigest()
    assert len(s3.keys(store.bucket)) == 1
    assert s3.pending_uploads(store.bucket) == []
    again = await store.save(stream(data))  # dedup: the copy is skipped, the temporary goes
    assert again == saved
    assert len(s3.keys(store.bucket)) == 1
    middle = b"".join(
        [c async for c in store.open_range(saved.key, PART_BYTES - 5, PART_BYTES + 4)]
    )
    assert middle == data[PART_BYTES - 5 : PART_BYTES + 5]


async def test_a_failed_stream_leaves_nothing_not_even_parts(store: S3BlobStore, s3: S3Server):
    with pytest.raises(RuntimeError):
        await store.save(stream(os.urandom(PART_BYTES + 10), b"more", fail=True))
    assert s3.keys(store.bucket) == []
    assert s3.pending_uploads(store.bucket) == []


async def test_stale_partial_uploads_are_swept_and_only_under_the_prefix(
    store: S3BlobStore, s3: S3Server
):
    client = s3.client()
    for name in ("pre/fix/.tmp/upload-old", "other/.tmp/upload-not-ours"):
        client.create_multipart_upload(Bucket=store.bucket, Key=name)
    # (moto dates every upload's start in 2010, so only "stale" can be shown here.)
    await store.sweep()
    assert s3.pending_uploads(store.bucket) == ["other/.tmp/upload-not-ours"]


def test_a_missing_or_unreachable_bucket_is_said_plainly(s3: S3Server):
    with pytest.raises(BlobUnavailable, match="bucket 'nope' does not exist; create it first"):
        S3BlobStore("s3://nope/x", client=s3.client()).prepare()
    closed = S3Server()  # never started: its port refuses
    with pytest.raises(BlobUnavailable, match="cannot reach object storage"):
        S3BlobStore("s3://nope/x", client=closed.client()).prepare()
