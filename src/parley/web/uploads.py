"""``POST /api/files`` as a plain ASGI handler in front of Quart: a streamed upload.

Why not a Quart route: Quart reads the request body in a task of its own that appends
every chunk to an in-memory buffer as fast as the network delivers it, with no
back-pressure, and sizes that buffer's limit from MAX_CONTENT_LENGTH when the request
is created (setting ``request.max_content_length`` later does not reach it). Reading
``receive()`` ourselves, only as fast as storage takes the bytes, lets uvicorn's flow
control pause the socket: memory stays at a few chunks whatever the file's size.

The multipart body is parsed as it streams by python-multipart's MultipartParser; the
file part's bytes go straight on to :func:`parley.domain.files.upload`, which stores
them chunk by chunk and stops the moment they pass the limit.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from parley.asgi import Receive, Scope, SendFn
from parley.credentials import read_credential
from parley.domain import accounts, files
from parley.domain.context import Context
from parley.domain.models import User
from parley.domain.server_settings import ServerSettings, server_settings
from parley.domain.signed import same_secret
from parley.errors import (
    BadInput,
    Forbidden,
    ParleyError,
    RateLimited,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from parley.security_headers import SECURITY_HEADER_PAIRS
from parley.web.cookies import CSRF_HEADER
from parley.web.deps import csrf_token

log = logging.getLogger(__name__)

UPLOAD_PATH = "/api/files"
FILE_FIELD = b"file"
# Boundaries, part headers and small extra fields on top of the file's own bytes.
MULTIPART_OVERHEAD = 64 * 1024
# A part's headers are a few hundred bytes; more is not a browser's upload.
MAX_PART_HEADERS = 16 * 1024
RESPONSE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    *SECURITY_HEADER_PAIRS,
]


class ClientGone(Exception):
    """The client disconnected before the upload finished."""


def is_upload(scope: Scope) -> bool:
    return bool(
        scope["type"] == "http" and scope["path"] == UPLOAD_PATH and scope["method"] == "POST"
    )


async def handle_upload(ctx: Context, scope: Scope, receive: Receive, send: SendFn) -> None:
    """Authenticate, stream the ``file`` part to storage, answer 201 ``{"file": File}``."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        user = await _authenticate(ctx, headers)
        limits = await server_settings(ctx)
        body = _MultipartBody(ctx, limits, headers, receive)
        name = await body.start()
        stored = await files.upload(ctx, user, name, body.file_chunks())
        await body.drain()
    except ClientGone:
        log.info("upload abandoned by the client")
        return
    except ParleyError as exc:
        extra = (
            [(b"retry-after", str(exc.retry_after).encode())]
            if isinstance(exc, RateLimited)
            else []
        )
        error = {"error": {"code": exc.code, "message": exc.message}}
        await _respond(send, exc.status, error, extra)
        return
    except Exception:
        log.exception("upload failed")
        await _respond(
            send, 500, {"error": {"code": "internal_error", "message": "The upload failed."}}
        )
        return
    await _respond(send, 201, {"file": stored})


async def _authenticate(ctx: Context, headers: dict[str, str]) -> User:
    """The uploader, from a bearer token or the session cookie (which needs CSRF)."""
    credential = read_credential(headers.get("authorization", ""), headers.get("cookie", ""))
    found = await accounts.authenticate(ctx, credential.token) if credential else None
    if credential is None or found is None:
        raise Unauthorized("Sign in first.", code="unauthorized")
    session_id, account = found
    if credential.by_cookie:
        sent = headers.get(CSRF_HEADER.lower(), "")
        if not same_secret(sent, csrf_token(ctx.settings.secret_key, session_id)):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    return account.user


class _MultipartBody:
    """Reads the request body only as fast as the file part's bytes are consumed."""

    def __init__(
        self, ctx: Context, limits: ServerSettings, headers: dict[str, str], receive: Receive
    ) -> None:
        kind, params = parse_options_header(headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UnsupportedMediaType(
                "Send the file as multipart/form-data in a field named 'file'."
            )
        self._limit = limits.max_upload_bytes + MULTIPART_OVERHEAD
        self._limits = limits
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            raise _too_large(limits)  # refused before a byte of the body is read
        self._ctx = ctx
        self._receive = receive
        self._received = 0
        self._body_done = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )
        self._field = bytearray()
        self._value = bytearray()
        self._part_headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._in_file = False
        self._file_seen = False
        self._file_done = False
        self._file_name: str | None = None
        self._chunks: deque[bytes] = deque()

    # -- parser callbacks (synchronous: they only record what they see) --------------

    def _on_part_begin(self) -> None:
        self._part_headers = {}
        self._header_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]
        self._count_header(end - start)

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._count_header(end - start)

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADERS:
            raise BadInput("A part's headers are too long.", code="invalid_multipart")

    def _on_header_end(self) -> None:
        self._part_headers[bytes(self._field).lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        disposition, params = parse_options_header(
            self._part_headers.get(b"content-disposition", b"")
        )
        if (
            disposition == b"form-data"
            and params.get(b"name") == FILE_FIELD
            and not self._file_seen
        ):
            self._in_file = self._file_seen = True
            raw = params.get(b"filename", b"")
            self._file_name = raw.decode("utf-8", "replace")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._chunks.append(data[start:end])

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    # -- reading ---------------------------------------------------------------------

    async def _read_more(self) -> None:
        if self._body_done:
            raise BadInput("The body ended before the file did.", code="invalid_multipart")
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        data = message.get("body", b"")
        self._received += len(data)
        if self._received > self._limit:
            raise _too_large(self._limits)
        try:
            self._parser.write(data)
            if not message.get("more_body", False):
                self._body_done = True
                self._parser.finalize()
        except MultipartParseError as exc:
            raise BadInput(f"Not valid multipart: {exc}", code="invalid_multipart") from exc

    async def start(self) -> str:
        """Read until the file part begins; returns the file's name as the client gave it."""
        while not self._file_seen:
            if self._body_done:
                raise BadInput("No 'file' field in the form.", code="missing_file")
            await self._read_more()
        return self._file_name or ""

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes, each chunk as it arrives off the network."""
        while True:
            while self._chunks:
                yield self._chunks.popleft()
            if self._file_done:
                return
            await self._read_more()

    async def drain(self) -> None:
        """Read what follows the file (the closing boundary) so the connection stays usable."""
        self._chunks.clear()
        while not self._body_done:
            await self._read_more()
            self._chunks.clear()


def _too_large(limits: ServerSettings) -> TooLarge:
    return TooLarge(f"Files are at most {limits.max_upload_mb} MB.", code="too_large")


async def _respond(
    send: SendFn, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(payload)
    headers = [*RESPONSE_HEADERS, *(extra or []), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
