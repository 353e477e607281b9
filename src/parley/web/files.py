"""Files over HTTP: metadata, bytes (with Range) and thumbnails.

Uploads enter at parley.web.uploads (a streaming ASGI handler in front of Quart).
Every response of a file's bytes carries nosniff and a sandboxing CSP, so even a
file opened directly in a tab can never run as a page of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from quart import Blueprint, Response, jsonify, request
from werkzeug.http import parse_range_header

from parley.domain import files
from parley.domain.models import User
from parley.web.deps import ctx, current_auth

bp = Blueprint("files", __name__)

FILE_CSP = "default-src 'none'; sandbox"
# Bytes behind an id never change; a day in the browser's private cache.
FILE_CACHE_CONTROL = "private, max-age=86400"


async def _viewer() -> User | None:
    """Who asks; None for anonymous (who then gets the same 404 as a stranger)."""
    auth = await current_auth()
    return auth.user if auth is not None else None


@bp.get("/api/files/<file_id>")
async def metadata(file_id: str) -> Response:
    record = await files.access_file(ctx(), await _viewer(), file_id)
    return jsonify({"file": record.file})


@bp.get("/api/files/<file_id>/content")
async def content(file_id: str) -> Response:
    found = await files.download(ctx(), await _viewer(), file_id)
    return _serve(found)


@bp.get("/api/files/<file_id>/thumbnail")
async def thumbnail(file_id: str) -> Response:
    found = await files.download(ctx(), await _viewer(), file_id, thumbnail=True)
    return _serve(found)


def content_disposition(name: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback and the exact UTF-8 name (RFC 5987)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _serve(found: files.Download) -> Response:
    elsewhere = files.presigned_url(ctx(), found, content_disposition(found.name, found.inline))
    if elsewhere is not None:
        # The access check passed just now; the link itself expires in minutes, so
        # neither it nor this redirect may be kept by a cache.
        return Response(
            b"", status=302, headers={"Location": elsewhere, "Cache-Control": "no-store"}
        )
    etag = f'"{found.key}"'
    headers = {
        "Content-Type": found.content_type,
        "Content-Disposition": content_disposition(found.name, found.inline),
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": FILE_CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "ETag": etag,
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(b"", status=304, headers=headers)
    start, end, status = 0, found.size - 1, 200
    wanted = parse_range_header(request.headers.get("Range"))
    if_range = request.headers.get("If-Range")
    # One range only (what players seek with); several, or a stale If-Range: whole file.
    if wanted is not None and len(wanted.ranges) == 1 and if_range in (None, etag):
        span = wanted.range_for_length(found.size)
        if span is None:
            headers["Content-Range"] = f"bytes */{found.size}"
            headers["Content-Type"] = "application/json"
            body = b'{"error":{"code":"range_not_satisfiable","message":"Bad range."}}'
            return Response(body, status=416, headers=headers)
        start, end, status = span[0], span[1] - 1, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{found.size}"
    headers["Content-Length"] = str(max(0, end - start + 1))
    blobs = ctx().blobs
    assert blobs is not None
    stream: AsyncIterator[bytes] | bytes = (
        b"" if found.size == 0 else blobs.open_range(found.key, start, end)
    )
    return Response(stream, status=status, headers=headers)
