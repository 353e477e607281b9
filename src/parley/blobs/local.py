"""Blobs in a local folder: ``<root>/ab/cd/abcd...`` named by SHA-256.

Writes go to a temporary file in ``<root>/.tmp`` (same file system), are hashed on the
way, then renamed into place: a reader never sees a half-written blob, and a crash
leaves only a temporary file, which the next start removes. Every blocking call runs
in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

from parley.blobs.base import SavedBlob

# Chunks are gathered to this size before one thread hop writes them: a hop costs
# tens of microseconds, so writing every 64 KiB network chunk alone would dominate.
WRITE_BATCH_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024
TMP_DIR = ".tmp"
# A temporary file untouched this long belongs to no upload still running.
STALE_TMP_S = 3600.0
_KEY = re.compile(r"^[0-9a-f]{64}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / TMP_DIR

    def prepare(self, now: float | None = None) -> None:
        """Create the folders and drop temporary files a crash may have left.

        Only old ones: another process sharing this folder may be writing the rest.
        """
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._sweep(now)

    async def sweep(self) -> None:
        await asyncio.to_thread(self._sweep)

    def _sweep(self, now: float | None = None) -> None:
        cutoff = (time.time() if now is None else now) - STALE_TMP_S
        for leftover in self._tmp.iterdir():
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def close(self) -> None:
        pass  # nothing held between calls

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise FileNotFoundError(key)  # never let a key walk the file system
        return self.root / key[:2] / key[2:4] / key

    async def save(self, chunks: AsyncIterable[bytes]) -> SavedBlob:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = await asyncio.to_thread(_mkstemp, self._tmp)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                pending: list[bytes] = []
                pending_size = 0
                async for chunk in chunks:
                    pending.append(chunk)
                    pending_size += len(chunk)
                    if pending_size >= WRITE_BATCH_BYTES:
                        await asyncio.to_thread(_write, handle, digest, pending)
                        size += pending_size
                        pending, pending_size = [], 0
                if pending:
                    await asyncio.to_thread(_write, handle, digest, pending)
                    size += pending_size
            key = digest.hexdigest()
            await asyncio.to_thread(self._commit, tmp, self._path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()  # noqa: ASYNC240 - one unlink, on the error path only
            raise
        return SavedBlob(key, size)

    @staticmethod
    def _commit(tmp: Path, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        # Replacing identical bytes is harmless and refreshes the blob if a concurrent
        # delete raced with this upload.
        os.replace(tmp, final)

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        handle = await asyncio.to_thread(_open_at, path, start)
        try:
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = READ_CHUNK_BYTES if remaining is None else min(READ_CHUNK_BYTES, remaining)
                data = await asyncio.to_thread(handle.read, want)
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            await asyncio.to_thread(handle.close)

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)


def _mkstemp(folder: Path) -> tuple[int, str]:
    return tempfile.mkstemp(dir=folder, prefix="upload-")


def _write(handle: BinaryIO, digest: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digest.update(chunk)
        handle.write(chunk)


def _open_at(path: Path, start: int) -> BinaryIO:
    handle = path.open("rb")
    handle.seek(start)
    return handle
