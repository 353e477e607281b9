"""The storage interface for uploaded bytes, keyed by content hash.

Blobs are immutable and named by the SHA-256 of their bytes, so the same bytes are
stored once however often they are uploaded. The interface is deliberately small
(save a stream, read a byte range, check, delete) so that an S3-compatible store can
stand in for the local folder without any change above this package: a multipart
upload to a temporary key, then a copy to the hash key, fits ``save`` exactly.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix/"); ValueError if malformed."""
    found = _S3_URL.match(url)
    if found is None:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    prefix = (found.group(2) or "").strip("/")
    return found.group(1), prefix + "/" if prefix else ""


class BlobUnavailable(Exception):
    """The storage cannot be reached or refused the operation (the domain answers 503)."""


@dataclass(frozen=True, slots=True)
class SavedBlob:
    key: str  # the lowercase hex SHA-256 of the bytes
    size: int


class BlobStore(Protocol):
    def prepare(self) -> None:
        """Blocking, once at start: check the storage is usable, drop what a crash left.

        Raises BlobUnavailable saying why when it is not usable.
        """
        ...

    async def sweep(self) -> None:
        """Drop temporary data (partial uploads) older than any upload still running."""
        ...

    def close(self) -> None:
        """Release what the store holds (threads, connections); blocking, at shutdown."""
        ...

    async def save(self, chunks: AsyncIterable[bytes]) -> SavedBlob:
        """Store the stream's bytes under their hash; returns the key and size.

        Nothing is kept if the stream raises: the exception propagates after the
        partial data is removed. Saving bytes that are already stored is a no-op
        that still returns their key.
        """
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start`` to ``end`` (inclusive; None: to the end), in chunks.

        Raises FileNotFoundError (on first iteration) if the key is not stored.
        """
        ...

    async def size(self, key: str) -> int | None:
        """The stored size in bytes, or None if the key is not stored."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""
        ...


@runtime_checkable
class Presigning(Protocol):
    """A store whose bytes a client can fetch directly by a short-lived signed URL."""

    def presigned_url(
        self, key: str, expires_s: int, *, content_type: str, disposition: str
    ) -> str: ...

    def presigned_origin(self) -> str:
        """The scheme://host[:port] every presigned URL points at (for the pages' CSP)."""
        ...
