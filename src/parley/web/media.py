"""Serving the small images Parley makes itself (avatars, custom emoji, preview images).

Each is re-encoded by Pillow, so it is an image and nothing else; it is still served
with nosniff and a sandboxing CSP, as every file's bytes are (web/files.py).
"""

from __future__ import annotations

from quart import Response

from parley.domain.files import media_bytes
from parley.web.deps import ctx
from parley.web.files import FILE_CSP


async def serve_blob(key: str, content_type: str, cache_control: str) -> Response:
    data = await media_bytes(ctx(), key)
    response = Response(data, status=200, content_type=content_type)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Content-Disposition"] = "inline"
    return response
