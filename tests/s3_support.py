"""A real S3 API for tests (moto's standalone server on 127.0.0.1) and a proxy in
front of it that can stall or cut the link, as a slow or unreachable bucket would."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.support import free_port

ACCESS_KEY = "parley-test"
SECRET_KEY = "parley-test-secret"
REGION = "us-east-1"


class S3Server:
    """moto's S3 on a free local port; ``env`` points boto3 (and Parley) at ``url``."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self, endpoint: str | None = None) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str) -> list[str]:
        found = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in found.get("Contents", []))

    def pending_uploads(self, bucket: str) -> list[str]:
        found = self.client().list_multipart_uploads(Bucket=bucket)
        return [item["Key"] for item in found.get("Uploads", [])]


def s3_env(endpoint: str, blob_url: str) -> dict[str, str]:
    """The settings a Parley process needs to keep its blobs at ``blob_url``."""
    return {
        "PARLEY_BLOB_URL": blob_url,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        # No shared config files or instance metadata lookups from the test machine.
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class LinkProxy:
    """A TCP proxy on a free local port, run on the test's event loop.

    ``stall()`` holds every byte going to the bucket until ``release()``; ``cut()``
    closes every connection and refuses new ones until ``restore()``;
    ``cut_after(n)`` cuts once ``n`` bytes have gone to the bucket.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.sent = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._down = False
        self._cut_at: int | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._held = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LinkProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def stall(self) -> None:
        self._flowing.clear()

    async def wait_held(self, timeout: float = 10.0) -> None:
        """Until some bytes for the bucket are being held by ``stall()``."""
        await asyncio.wait_for(self._held.wait(), timeout)

    def release(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        self._down = True
        for writer in list(self._writers):
            writer.close()

    def cut_after(self, size: int) -> None:
        self._cut_at = self.sent + size

    def restore(self) -> None:
        self._down = False
        self._cut_at = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, to_bucket=True),
                self._pump(up_reader, writer, to_bucket=False),
            )
        finally:
            self._writers -= {writer, up_writer}
            for w in (writer, up_writer):
                w.close()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, to_bucket: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if to_bucket:
                    if not self._flowing.is_set():
                        self._held.set()
                        await self._flowing.wait()
                    if self._down:
                        break
                    self.sent += len(data)
                    if self._cut_at is not None and self.sent >= self._cut_at:
                        self.cut()
                        break
                writer.write(data)
                await writer.drain()
        writer.close()
