"""Blobs in an S3-compatible bucket: ``<prefix>/ab/cd/abcd...`` named by SHA-256.

Endpoint, region and credentials come from boto3's standard settings
(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or a
profile), so AWS S3, MinIO, Ceph RGW, R2 and B2 all work. The bucket is the operator's:
Parley never creates it, and :meth:`S3BlobStore.check` says clearly when it is missing.

An upload's key is its hash, known only at the end, so a stream goes up in multipart
parts (PART_BYTES each: memory holds one part, whatever the file's size) to a temporary
key, hashed on the way, and is then copied to its hash key and the temporary removed. A
stream smaller than one part is sent in one PUT straight to its hash key. Bytes already
stored are not copied again (dedup). A failure aborts the multipart upload, so nothing
half-written is left; one a crash interrupted is aborted by the next start's
:meth:`S3BlobStore.prepare`.

boto3 blocks, so every call runs in this store's own thread pool: a slow bucket fills
those threads, never the event loop's default pool that the rest of Parley shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from parley.blobs.base import BlobUnavailable, SavedBlob, parse_s3_url

# S3 wants parts of at least 5 MiB (but the last); 8 MiB is boto3's own default.
PART_BYTES = 8 * 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024
TMP_PREFIX = ".tmp/"
# A multipart upload started this long ago belongs to no upload still running.
STALE_UPLOAD = timedelta(hours=1)
# Threads for S3 calls in one process: uploads and downloads in flight at once.
S3_THREADS = 16
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
_KEY = re.compile(r"^[0-9a-f]{64}$")
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}

T = TypeVar("T")


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")) in _NOT_FOUND


class S3BlobStore:
    def __init__(self, url: str, client: Any | None = None) -> None:
        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self._client = client or boto3.client(
            "s3",
            config=Config(
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
                # A down bucket answers the upload with 503 in seconds, not after minutes.
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=S3_THREADS,
            ),
        )
        self._pool = ThreadPoolExecutor(S3_THREADS, thread_name_prefix="s3-blobs")

    @property
    def client(self) -> Any:
        return self._client

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, lambda: fn(**kwargs))
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError) and _missing(exc):
                raise
            raise BlobUnavailable(f"object storage failed: {exc}") from exc

    def _name(self, key: str) -> str:
        if not _KEY.match(key):
            raise FileNotFoundError(key)
        return f"{self.prefix}{key[:2]}/{key[2:4]}/{key}"

    # -- start -----------------------------------------------------------------------

    def check(self) -> None:
        """Raise BlobUnavailable, saying why, unless the bucket answers (blocking)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _missing(exc):
                raise BlobUnavailable(
                    f"bucket {self.bucket!r} does not exist; create it first"
                ) from exc
            raise BlobUnavailable(f"bucket {self.bucket!r} refused: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobUnavailable(f"cannot reach object storage: {exc}") from exc

    def prepare(self, now: datetime | None = None) -> None:
        """Check the bucket; abort multipart uploads a crash left (blocking)."""
        self.check()
        self._sweep(now)

    async def sweep(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._sweep)

    def _sweep(self, now: datetime | None = None) -> None:
        """Abort multipart uploads a crash or a lost link left (their parts cost storage)."""
        cutoff = (now or datetime.now(UTC)) - STALE_UPLOAD
        with contextlib.suppress(BotoCoreError, ClientError):
            listing = self._client.list_multipart_uploads(
                Bucket=self.bucket, Prefix=self.prefix + TMP_PREFIX
            )
            for upload in listing.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )

    # -- the BlobStore interface -------------------------------------------------------

    async def save(self, chunks: AsyncIterable[bytes]) -> SavedBlob:
        digest = hashlib.sha256()
        size = 0
        part = bytearray()
        multipart: _Multipart | None = None
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                part += chunk
                if len(part) >= PART_BYTES:
                    if multipart is None:
                        multipart = await _Multipart.start(self)
                    await multipart.send(bytes(part[:PART_BYTES]))
                    del part[:PART_BYTES]
            key = digest.hexdigest()
            if multipart is None:
                if not await self.exists(key):
                    await self._call(
                        self._client.put_object,
                        Bucket=self.bucket,
                        Key=self._name(key),
                        Body=bytes(part),
                    )
                return SavedBlob(key, size)
            if part:
                await multipart.send(bytes(part))
            await multipart.finish()
            if not await self.exists(key):
                await self._call(
                    self._client.copy_object,
                    Bucket=self.bucket,
                    Key=self._name(key),
                    CopySource={"Bucket": self.bucket, "Key": multipart.name},
                )
            await self._call(self._client.delete_object, Bucket=self.bucket, Key=multipart.name)
            multipart = None
            return SavedBlob(key, size)
        except BaseException:
            if multipart is not None:
                await multipart.discard()
            raise

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        wanted = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = await self._call(
                self._client.get_object, Bucket=self.bucket, Key=self._name(key), Range=wanted
            )
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        body = answer["Body"]
        try:
            while True:
                data = await self._call(body.read, amt=READ_CHUNK_BYTES)
                if not data:
                    return
                yield data
        finally:
            await asyncio.get_running_loop().run_in_executor(self._pool, body.close)

    async def size(self, key: str) -> int | None:
        try:
            answer = await self._call(
                self._client.head_object, Bucket=self.bucket, Key=self._name(key)
            )
        except (ClientError, FileNotFoundError):
            return None
        return int(answer["ContentLength"])

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self._call(self._client.delete_object, Bucket=self.bucket, Key=self._name(key))

    def presigned_url(
        self, key: str, expires_s: int, *, content_type: str, disposition: str
    ) -> str:
        """A GET URL for ``key`` valid ``expires_s`` seconds, served with these headers."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._name(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": f"private, max-age={expires_s}",
            },
            ExpiresIn=expires_s,
        )
        return url

    def presigned_origin(self) -> str:
        sample = urlsplit(self.presigned_url("0" * 64, 60, content_type="", disposition=""))
        return f"{sample.scheme}://{sample.netloc}"


class _Multipart:
    """One multipart upload to a temporary key."""

    def __init__(self, store: S3BlobStore, name: str, upload_id: str) -> None:
        self.store = store
        self.name = name
        self.upload_id = upload_id
        self.parts: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, store: S3BlobStore) -> _Multipart:
        name = f"{store.prefix}{TMP_PREFIX}upload-{uuid.uuid4().hex}"
        answer = await store._call(
            store.client.create_multipart_upload, Bucket=store.bucket, Key=name
        )
        return cls(store, name, answer["UploadId"])

    async def send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        answer = await self.store._call(
            self.store.client.upload_part,
            Bucket=self.store.bucket,
            Key=self.name,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def finish(self) -> None:
        await self.store._call(
            self.store.client.complete_multipart_upload,
            Bucket=self.store.bucket,
            Key=self.name,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    async def discard(self) -> None:
        """Abort the upload (and remove the object if it was completed); never raises."""
        client, bucket = self.store.client, self.store.bucket
        with contextlib.suppress(Exception):
            await asyncio.shield(
                self.store._call(
                    client.abort_multipart_upload,
                    Bucket=bucket,
                    Key=self.name,
                    UploadId=self.upload_id,
                )
            )
        with contextlib.suppress(Exception):
            await asyncio.shield(
                self.store._call(client.delete_object, Bucket=bucket, Key=self.name)
            )
