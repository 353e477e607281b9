"""A real Context for domain tests: a fresh SQLite store and local blobs (or the blob
store given), no Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from parley.blobs.base import BlobStore
from parley.blobs.local import LocalBlobStore
from parley.bus.local import LocalBus
from parley.config import Settings
from parley.domain.context import Context
from parley.domain.presence import LocalPresence
from parley.domain.ratelimit import RateLimits
from parley.store import open_store


@asynccontextmanager
async def local_context(
    settings: Settings, blobs: BlobStore | None = None, **extra: Any
) -> AsyncIterator[Context]:
    """A Context in ``settings.data_dir``, its files in ``blobs`` (by default a folder
    there); ``extra`` goes to Context (a clock, say)."""
    store = await open_store(settings.effective_database_url)
    if blobs is None:
        blobs = LocalBlobStore(settings.uploads_dir)
    blobs.prepare()
    try:
        yield Context(
            settings=settings,
            store=store,
            bus=LocalBus(),
            presence=LocalPresence(),
            limits=RateLimits(100, 100),
            blobs=blobs,
            **extra,
        )
    finally:
        await store.close()
        blobs.close()
