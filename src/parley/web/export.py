"""Export: GET /api/rooms/{id}/export streams the room's history as a JSON download."""

from __future__ import annotations

import re

from quart import Blueprint, Response

from parley.domain import export
from parley.web.deps import client_ip, ctx, require_auth

bp = Blueprint("export", __name__)


@bp.get("/api/rooms/<int:room_id>/export")
async def export_room(room_id: int) -> Response:
    auth = await require_auth()
    context = ctx()
    room = await export.check_export(
        context, auth.user, room_id, site_admin=auth.account.is_admin, ip=client_ip()
    )
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", room.name).strip("-") or f"room-{room.id}"
    headers = {
        "Content-Disposition": f'attachment; filename="parley-{slug}-{room.id}.json"',
        "Cache-Control": "no-store",
    }
    return Response(
        export.export_chunks(context, room),
        status=200,
        headers=headers,
        content_type="application/json",
    )
