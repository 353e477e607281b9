"""Muting rooms: PUT and DELETE /api/rooms/{id}/mute."""

from __future__ import annotations

from quart import Blueprint, Response

from parley.domain import mutes
from parley.web.deps import ctx, require_user

bp = Blueprint("mutes", __name__)


@bp.put("/api/rooms/<int:room_id>/mute")
async def mute(room_id: int) -> Response:
    user = await require_user()
    await mutes.set_muted(ctx(), user, room_id, True)
    return Response(status=204)


@bp.delete("/api/rooms/<int:room_id>/mute")
async def unmute(room_id: int) -> Response:
    user = await require_user()
    await mutes.set_muted(ctx(), user, room_id, False)
    return Response(status=204)
