"""Files: upload, access, download and the cleanup of uploads never posted.

The content type is read from the bytes (filetype), never from the name or the
client's claim. Only types a browser merely displays (raster images, audio, video)
are ever served inline; everything else, including all that a browser could run
(HTML, SVG, XML, scripts), leaves as a download of a neutral type. A file is reached
through :func:`access_file`, which answers "not found" alike for a missing file and
one the user may not see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import filetype

from parley.blobs.base import BlobStore, BlobUnavailable, Presigning, SavedBlob
from parley.domain import images
from parley.domain.context import Context
from parley.domain.models import File, FileRecord, User
from parley.domain.ratelimit import spend
from parley.domain.server_settings import ServerSettings, server_settings
from parley.errors import NotFound, RateLimited, TooLarge, Unavailable

log = logging.getLogger(__name__)

# An upload nobody attached to a message within this time is removed.
UNATTACHED_MAX_AGE = timedelta(days=1)
# PARLEY_UPLOAD_QUOTA_MB counts what a person uploaded within this window.
QUOTA_WINDOW = timedelta(days=1)
CLEANUP_INTERVAL_S = 3600.0
CLEANUP_BATCH = 500
# filetype needs at most the first 8 KiB to recognise a format.
SNIFF_BYTES = 8192
NAME_MAX = 255
DEFAULT_NAME = "file"
NEUTRAL_TYPE = "application/octet-stream"
# Above this the image is stored without a thumbnail rather than read whole for Pillow.
THUMBNAIL_SOURCE_MAX_BYTES = 50 * 1024 * 1024
FILE_ID_BYTES = 16
# With PARLEY_BLOB_PRESIGN, how long a download link handed out after the access check
# works: long enough to start (and seek in) a video, short enough that a link copied
# out of the browser soon stops working.
PRESIGN_TTL_S = 300
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Served inline with their own type: what browsers only display, never execute.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/apng",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "video/x-m4v",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/ogg",
        "audio/x-flac",
        "audio/x-wav",
    }
)
IMAGE_TYPES = images.THUMBNAIL_TYPES | {"image/apng"}


@dataclass(frozen=True, slots=True)
class Download:
    """What the transport needs to serve a file's (or thumbnail's) bytes."""

    key: str
    size: int
    name: str
    content_type: str  # the type to serve with: the real one only when inline
    inline: bool


def _not_found() -> NotFound:
    return NotFound("No such file.", code="file_not_found")


def _blobs(ctx: Context) -> BlobStore:
    if ctx.blobs is None:
        raise Unavailable("File storage is not configured.")
    return ctx.blobs


@contextlib.contextmanager
def _storage() -> Iterator[None]:
    """Storage that cannot be reached (a bucket down) is a 503 the client may retry."""
    try:
        yield
    except BlobUnavailable as exc:
        log.warning("file storage unavailable: %s", exc)
        raise Unavailable("File storage is unavailable; try again shortly.") from exc


def clean_name(name: object) -> str:
    """A display and download name: no folders, no control characters, at most 255."""
    text = name if isinstance(name, str) else ""
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(text) > NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        text = (stem if keep else text)[: NAME_MAX - len(keep) - 1].rstrip() + (
            "." + keep if keep else ""
        )
    return text or DEFAULT_NAME


def sniff(head: bytes) -> str:
    """The content type the bytes show, or the neutral type when unknown."""
    kind = filetype.guess(head) if head else None
    return kind.mime if kind is not None else NEUTRAL_TYPE


async def upload(ctx: Context, user: User, name: object, chunks: AsyncIterable[bytes]) -> File:
    """Store an upload streamed in ``chunks`` and return it as a File.

    Raises TooLarge as soon as the stream passes the upload limit (nothing is kept),
    RateLimited past the uploader's budget (UPLOADS_BURST uploads, then UPLOADS_PER_S)
    or byte quota (PARLEY_UPLOAD_QUOTA_MB in 24 hours, attached or not: checked before
    the first byte and as they stream), Unavailable if storage fails. Images get a
    thumbnail when Pillow can decode them; one it refuses (broken, a decompression
    bomb) is stored without.
    """
    blobs = _blobs(ctx)
    await spend(ctx.limits.uploads, user.id, "You are uploading files too fast.")
    limits = await server_settings(ctx)
    quota_left, quota_wait = await _quota_left(ctx, user, limits)
    limit = limits.max_upload_bytes
    head = bytearray()

    async def measured() -> AsyncIterator[bytes]:
        total = 0
        async for chunk in chunks:
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"Files are at most {limits.max_upload_mb} MB.", code="too_large")
            if total > quota_left:
                raise _over_quota(limits, quota_wait)
            if len(head) < SNIFF_BYTES:
                head.extend(chunk[: SNIFF_BYTES - len(head)])
            yield chunk

    with _storage():
        saved = await blobs.save(measured())
        content_type = sniff(bytes(head))
        thumb: images.Thumbnail | None = None
        thumb_saved: SavedBlob | None = None
        if content_type in IMAGE_TYPES and saved.size <= THUMBNAIL_SOURCE_MAX_BYTES:
            thumb = await _thumbnail(ctx, blobs, saved.key)
            if thumb is not None:
                thumb_saved = await blobs.save(_single(thumb.data))
    file_id = secrets.token_urlsafe(FILE_ID_BYTES)
    record = FileRecord(
        file=File.stored(
            file_id,
            clean_name(name),
            saved.size,
            content_type,
            has_thumbnail=thumb_saved is not None,
            width=thumb.width if thumb else None,
            height=thumb.height if thumb else None,
        ),
        uploader_id=user.id,
        blob_key=saved.key,
        thumb_key=thumb_saved.key if thumb_saved else None,
        created_at=ctx.clock(),
    )
    async with ctx.file_lock:
        await ctx.store.files.insert(record)
        # Cleanup may have removed identical bytes between our save and this insert.
        keys = [k for k in (record.blob_key, record.thumb_key) if k]
        try:
            with _storage():
                present = all([await blobs.exists(k) for k in keys])
        except Unavailable:
            await ctx.store.files.delete(file_id)
            raise
        if not present:
            await ctx.store.files.delete(file_id)
            raise Unavailable("The upload was interrupted; please try again.")
    stored = await ctx.store.files.get(file_id)
    assert stored is not None
    return stored.file


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _thumbnail(ctx: Context, blobs: BlobStore, key: str) -> images.Thumbnail | None:
    """A thumbnail made in a worker thread, or None when the image is refused."""
    async with ctx.thumbnail_slots:
        source = b"".join([chunk async for chunk in blobs.open_range(key)])
        try:
            return await asyncio.to_thread(images.make_thumbnail, source)
        except images.ImageRefused as exc:
            log.info("no thumbnail for %s: %s", key[:12], exc)
            return None


async def access_file(ctx: Context, user: User | None, file_id: str) -> FileRecord:
    """The file if ``user`` uploaded it or shares a room where it was posted.

    NotFound alike for a missing file, a hidden one and an anonymous request.
    """
    if user is None or not _FILE_ID.match(file_id):
        raise _not_found()
    record = await ctx.store.files.get(file_id)
    if record is None:
        raise _not_found()
    if record.uploader_id != user.id and not await ctx.store.files.visible_to(file_id, user.id):
        raise _not_found()
    return record


def serving(record: FileRecord) -> tuple[str, bool]:
    """(type to serve with, inline?): inline only for display-only types that decoded."""
    kind = record.file.content_type
    inline = kind in INLINE_TYPES and (kind not in IMAGE_TYPES or record.thumb_key is not None)
    return (kind, True) if inline else (NEUTRAL_TYPE, False)


async def download(
    ctx: Context, user: User | None, file_id: str, *, thumbnail: bool = False
) -> Download:
    """Where a file's bytes (or its thumbnail's) are, and how to serve them."""
    record = await access_file(ctx, user, file_id)
    with _storage():
        return await _download(ctx, record, thumbnail)


async def _download(ctx: Context, record: FileRecord, thumbnail: bool) -> Download:
    file_id = record.file.id
    if thumbnail:
        if record.thumb_key is None:
            raise NotFound("This file has no thumbnail.", code="no_thumbnail")
        key, kind, inline = record.thumb_key, "image/jpeg", True
        size = await _blobs(ctx).size(key)
        head = b"".join([c async for c in _blobs(ctx).open_range(key, 0, 15)]) if size else b""
        kind = sniff(head)
    else:
        key = record.blob_key
        kind, inline = serving(record)
        size = await _blobs(ctx).size(key)
    if size is None:
        log.warning("file %s: blob %s is missing", file_id, key[:12])
        raise _not_found()
    return Download(key, size, record.file.name, kind, inline)


def presigned_url(ctx: Context, found: Download, disposition: str) -> str | None:
    """A short-lived URL of the bucket itself for ``found``, when the operator enabled
    PARLEY_BLOB_PRESIGN and the store can sign; None: serve the bytes through Parley.

    The bucket answers with the same type and disposition Parley would have used.
    """
    blobs = ctx.blobs
    if not ctx.settings.blob_presign or not isinstance(blobs, Presigning):
        return None
    return blobs.presigned_url(
        found.key, PRESIGN_TTL_S, content_type=found.content_type, disposition=disposition
    )


async def _quota_left(ctx: Context, user: User, limits: ServerSettings) -> tuple[int, float]:
    """Bytes the user may still upload, and the seconds until the oldest counted upload
    leaves the window. RateLimited when nothing is left."""
    now = _parse_time(ctx.clock())
    used, oldest = await ctx.store.files.uploaded_since(user.id, _format_time(now - QUOTA_WINDOW))
    wait = (
        (_parse_time(oldest) + QUOTA_WINDOW - now).total_seconds()
        if oldest
        else QUOTA_WINDOW.total_seconds()
    )
    left = limits.upload_quota_bytes - used
    if left <= 0:
        raise _over_quota(limits, wait)
    return left, wait


def _over_quota(limits: ServerSettings, wait: float) -> RateLimited:
    return RateLimited(wait, f"You may upload {limits.upload_quota_mb} MB a day; try again later.")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def remove_unattached(ctx: Context) -> int:
    """Delete uploads older than UNATTACHED_MAX_AGE that no message refers to.

    Their bytes go too unless another file shares them. Returns how many were removed.
    """
    blobs = _blobs(ctx)
    cutoff = _format_time(_parse_time(ctx.clock()) - UNATTACHED_MAX_AGE)
    removed = 0
    while True:
        stale = await ctx.store.files.unattached_before(cutoff, CLEANUP_BATCH)
        if not stale:
            break
        async with ctx.file_lock:
            deleted = set(await ctx.store.files.delete_unattached([r.file.id for r in stale]))
            keys = {
                key
                for r in stale
                if r.file.id in deleted
                for key in (r.blob_key, r.thumb_key)
                if key is not None
            }
            for key in sorted(keys):
                if not await ctx.store.files.key_in_use(key):
                    await blobs.delete(key)
        removed += len(deleted)
        if len(stale) < CLEANUP_BATCH or not deleted:
            break
    return removed


async def remove_detached(ctx: Context, file_ids: list[str]) -> int:
    """Delete the files ``file_ids`` that no message refers to any more (their messages
    were erased or expired), and their bytes unless another file shares them (uploads
    of the same content share one blob). Returns how many files were removed."""
    if not file_ids:
        return 0
    blobs = _blobs(ctx)
    records = [r for r in [await ctx.store.files.get(i) for i in file_ids] if r is not None]
    async with ctx.file_lock:
        deleted = set(await ctx.store.files.delete_unattached([r.file.id for r in records]))
        keys = {
            key
            for r in records
            if r.file.id in deleted
            for key in (r.blob_key, r.thumb_key)
            if key is not None
        }
        for key in sorted(keys):
            if not await ctx.store.files.key_in_use(key):
                await blobs.delete(key)
    return len(deleted)


async def cleanup_forever(ctx: Context, interval_s: float = CLEANUP_INTERVAL_S) -> None:
    """Run :func:`remove_unattached` now and then every ``interval_s``, until cancelled."""
    while True:
        try:
            removed = await remove_unattached(ctx)
            if removed:
                log.info("removed %d uploads never posted", removed)
            await _blobs(ctx).sweep()
        except Exception:
            log.exception("cleaning up unattached uploads failed")
        await asyncio.sleep(interval_s)


# Avatars, custom emoji and preview images are small: read whole, never streamed.
MEDIA_MAX_BYTES = 2 * 1024 * 1024


async def media_bytes(ctx: Context, key: str) -> bytes:
    """The bytes of a small image Parley made (an avatar, emoji or preview image).

    NotFound if they are missing; Unavailable if storage cannot be reached.
    """
    blobs = _blobs(ctx)
    with _storage():
        size = await blobs.size(key)
        if size is None or size > MEDIA_MAX_BYTES:
            raise _not_found()
        return b"".join([chunk async for chunk in blobs.open_range(key)])
