"""Pins (POST/DELETE /api/messages/{id}/pin, GET /api/rooms/{id}/pins), saved messages
(POST/DELETE /api/messages/{id}/save, GET /api/saved) and my read-receipts setting
(GET/PUT /api/me/read-receipts)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import pins, receipts, saved
from parley.web.deps import ctx, require_user
from parley.web.schemas import EnabledBody

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


@bp.get("/api/me/read-receipts")
async def read_receipts() -> Response:
    user = await require_user()
    return jsonify({"enabled": await receipts.enabled(ctx(), user)})


@bp.put("/api/me/read-receipts")
@validate_request(EnabledBody)
async def set_read_receipts(data: EnabledBody) -> Response:
    user = await require_user()
    await receipts.set_enabled(ctx(), user, data.enabled)
    return Response(status=204)
