"""The local blob store: content-addressed, ranged reads, nothing kept on failure."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.blobs.local import STALE_TMP_S, LocalBlobStore


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def stream(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise RuntimeError("client went away")


async def test_bytes_are_stored_under_their_hash_and_read_back_by_range(tmp_path: Path):
    store = LocalBlobStore(tmp_path)
    store.prepare()
    saved = await store.save(stream(b"hello ", b"world"))
    assert saved.key == hashlib.sha256(b"hello world").hexdigest()
    assert saved.size == 11
    assert b"".join([c async for c in store.open_range(saved.key)]) == b"hello world"
    assert b"".join([c async for c in store.open_range(saved.key, 6, 10)]) == b"world"
    again = await store.save(stream(b"hello world"))
    assert again == saved
    await store.delete(saved.key)
    assert not await store.exists(saved.key)
    await store.delete(saved.key)  # twice is fine


async def test_a_failed_stream_leaves_nothing(tmp_path: Path):
    store = LocalBlobStore(tmp_path)
    store.prepare()
    with pytest.raises(RuntimeError):
        await store.save(stream(b"x" * 3_000_000, fail=True))
    assert files_under(tmp_path) == []


async def test_a_key_cannot_walk_the_file_system(tmp_path: Path):
    store = LocalBlobStore(tmp_path / "uploads")
    (tmp_path / "secret").write_text("no")
    assert await store.size("../secret") is None
    with pytest.raises(FileNotFoundError):
        [c async for c in store.open_range("../secret")]


def test_only_old_temporary_files_are_swept_at_start(tmp_path: Path):
    store = LocalBlobStore(tmp_path)
    store.prepare()
    old, fresh = tmp_path / ".tmp" / "upload-old", tmp_path / ".tmp" / "upload-fresh"
    old.write_bytes(b"crashed")
    fresh.write_bytes(b"another process is writing this")
    now = fresh.stat().st_mtime
    os.utime(old, (now - STALE_TMP_S - 1, now - STALE_TMP_S - 1))
    store.prepare(now=now)
    assert not old.exists()
    assert fresh.exists()
