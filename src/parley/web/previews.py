"""Link previews over HTTP: a preview's image, and a room's switch
(GET/PUT /api/rooms/{room_id}/previews)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import previews
from parley.web.deps import ctx, current_auth, require_user
from parley.web.media import serve_blob
from parley.web.schemas import EnabledBody

bp = Blueprint("previews", __name__)

# Named by the URL's hash: the image can change when the cache entry is refreshed.
PREVIEW_CACHE_CONTROL = "private, max-age=3600"


@bp.get("/api/previews/<key>/image")
async def image(key: str) -> Response:
    auth = await current_auth()
    blob_key, kind = await previews.image(ctx(), auth.user if auth else None, key)
    return await serve_blob(blob_key, kind, PREVIEW_CACHE_CONTROL)


@bp.get("/api/rooms/<int:room_id>/previews")
async def room_setting(room_id: int) -> Response:
    user = await require_user()
    enabled = await previews.room_setting(ctx(), user, room_id)
    return jsonify({"room_id": room_id, "enabled": enabled})


@bp.put("/api/rooms/<int:room_id>/previews")
@validate_request(EnabledBody)
async def set_room_setting(room_id: int, data: EnabledBody) -> Response:
    user = await require_user()
    enabled = await previews.set_room_setting(ctx(), user, room_id, data.enabled)
    return jsonify({"room_id": room_id, "enabled": enabled})
