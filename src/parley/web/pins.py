"""Pins (POST/DELETE /api/messages/{id}/pin, GET /api/rooms/{id}/pins) and saved
messages (POST/DELETE /api/messages/{id}/save, GET /api/saved)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from parley.domain import pins, saved
from parley.web.deps import ctx, require_user

bp = Blueprint("pins", __name__)


@bp.post("/api/messages/<int:message_id>/pin")
async def pin(message_id: int) -> Response:
    user = await require_user()
    await pins.set_pinned(ctx(), user, message_id, pinned=True)
    return Response(status=204)


@bp.delete("/api/messages/<int:message_id>/pin")
async def unpin(message_id: int) -> Response:
    user = await require_user()
    await pins.set_pinned(ctx(), user, message_id, pinned=False)
    return Response(status=204)


@bp.get("/api/rooms/<int:room_id>/pins")
async def room_pins(room_id: int) -> Response:
    user = await require_user()
    return jsonify({"pins": await pins.pins(ctx(), user, room_id)})


@bp.post("/api/messages/<int:message_id>/save")
async def save(message_id: int) -> Response:
    user = await require_user()
    await saved.save(ctx(), user, message_id)
    return Response(status=204)


@bp.delete("/api/messages/<int:message_id>/save")
async def unsave(message_id: int) -> Response:
    user = await require_user()
    await saved.unsave(ctx(), user, message_id)
    return Response(status=204)


@bp.get("/api/saved")
async def saved_list() -> Response:
    user = await require_user()
    return jsonify({"saved": await saved.saved(ctx(), user)})
