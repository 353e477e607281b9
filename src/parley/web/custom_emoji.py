"""Custom emoji over HTTP: POST /api/emoji/custom (multipart ``name`` and ``file``),
GET /api/emoji/custom, DELETE /api/emoji/custom/{name}, GET .../{name}/image."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from parley.domain import custom_emoji
from parley.domain.models import StoredEmoji
from parley.errors import BadInput
from parley.web.deps import ctx, require_auth, require_user
from parley.web.media import serve_blob

bp = Blueprint("custom_emoji", __name__)

# The URL carries a version of the bytes: a day in the browser's cache is safe.
EMOJI_CACHE_CONTROL = "private, max-age=86400"


def _emoji(found: StoredEmoji) -> dict[str, Any]:
    e = found.emoji
    return {"name": e.name, "url": e.url, "created_by": e.created_by, "created_at": e.created_at}


@bp.get("/api/emoji/custom")
async def listing() -> Response:
    await require_auth()
    return jsonify({"emoji": [_emoji(e) for e in await custom_emoji.listing(ctx())]})


@bp.post("/api/emoji/custom")
async def add() -> Response:
    auth = await require_auth()
    form = await request.form
    files = await request.files
    upload = files.get("file")
    if upload is None:
        raise BadInput("Send the image as the multipart field file.", code="missing_file")
    data = upload.read(custom_emoji.SOURCE_MAX_BYTES + 1)
    found = await custom_emoji.add(ctx(), auth.account, form.get("name"), data)
    return jsonify({"emoji": _emoji(found)}), 201  # type: ignore[return-value]


@bp.delete("/api/emoji/custom/<name>")
async def remove(name: str) -> Response:
    auth = await require_auth()
    await custom_emoji.remove(ctx(), auth.account, name)
    return Response(status=204)


@bp.get("/api/emoji/custom/<name>/image")
async def image(name: str) -> Response:
    user = await require_user()
    found = await custom_emoji.image(ctx(), user, name)
    return await serve_blob(found.blob_key, found.content_type, EMOJI_CACHE_CONTROL)
