"""What every domain action needs, handed in as one argument (tests build their own)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.blobs.base import BlobStore
from parley.bus.base import Bus
from parley.config import Settings
from parley.domain.attention import Attention
from parley.domain.coalesce import Coalescer
from parley.domain.models import Message, utc_now
from parley.domain.oidc_metadata import OidcMetadata
from parley.domain.presence import Presence
from parley.domain.ratelimit import RateLimits
from parley.store import Store

THUMBNAIL_CONCURRENCY = 2
# Searches running at once in one process: the rest wait, so that searching never takes
# every database connection the rest of the API needs.
SEARCH_CONCURRENCY = 2
RECEIPT_INTERVAL_S = 1.0
# Link preview fetches at once in one process, whatever the number of links posted.
PREVIEW_CONCURRENCY = 4


class PushOffers(Protocol):
    """What the domain asks of Web Push (domain/push_sender.PushService)."""

    @property
    def public_key(self) -> str: ...

    def offer(self, message: Message) -> None: ...

    def subscribed(self, user_id: int) -> None: ...


@dataclass
class LifecycleCounts:
    """Messages tombstoned by account erasure and by retention in this process
    (``/metrics``)."""

    erased: int = 0
    expired: int = 0
    files_removed: int = 0
    # Erasures going on after their request answered (held so they are not collected).
    erasing: set[asyncio.Task[int | None]] = field(default_factory=set)


@dataclass
class Context:
    settings: Settings
    store: Store
    bus: Bus
    presence: Presence
    limits: RateLimits
    clock: Callable[[], str] = field(default=utc_now)
    blobs: BlobStore | None = None
    # Held while a file row starts or stops referring to a blob, so that cleanup never
    # deletes bytes a new upload of the same content has just claimed.
    file_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Decoding images is CPU and memory heavy: a few at a time, whatever the uploads.
    thumbnail_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(THUMBNAIL_CONCURRENCY)
    )
    search_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(SEARCH_CONCURRENCY)
    )
    # OpenID providers' discovery documents and keys, fetched on first use.
    oidc: OidcMetadata = field(default_factory=OidcMetadata)
    lifecycle: LifecycleCounts = field(default_factory=LifecycleCounts)
    # Read receipts: one frame per reader and room per second at most (domain/receipts.py).
    receipts: Coalescer = field(default_factory=lambda: Coalescer(RECEIPT_INTERVAL_S))
    # Link previews being made (held so they are not collected), a few fetching at once.
    preview_tasks: set[asyncio.Future[None]] = field(default_factory=set)
    preview_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(PREVIEW_CONCURRENCY)
    )
    # The server settings read last (domain/server_settings.py): (monotonic time, value).
    server_settings_cache: tuple[float, Any] | None = None
    # Web Push: started with the server (parley.app); None in commands and tests that
    # build their own Context.
    push: PushOffers | None = None
    # Who is looking (domain/attention.py): made from presence and the grace setting.
    attention: Attention = field(init=False)

    def __post_init__(self) -> None:
        self.attention = Attention(self.presence, self.settings.push_grace_s)
