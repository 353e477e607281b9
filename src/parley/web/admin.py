"""Site administration over HTTP: /api/admin/users/{id}/disable and /enable."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from parley.domain import admin
from parley.web.deps import ctx, require_auth

bp = Blueprint("admin", __name__)


@bp.post("/api/admin/users/<int:user_id>/disable")
async def disable(user_id: int) -> Response:
    auth = await require_auth()
    user = await admin.set_disabled(ctx(), auth.account, user_id, True)
    return jsonify({"user": user, "disabled": True})


@bp.post("/api/admin/users/<int:user_id>/enable")
async def enable(user_id: int) -> Response:
    auth = await require_auth()
    user = await admin.set_disabled(ctx(), auth.account, user_id, False)
    return jsonify({"user": user, "disabled": False})
