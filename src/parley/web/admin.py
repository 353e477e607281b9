"""Site administration over HTTP: /api/admin/users/{id}/disable and /enable, and
DELETE /api/admin/users/{id}."""

from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, Response, jsonify, request

from parley.domain import admin, lifecycle
from parley.errors import BadInput
from parley.web.deps import ctx, require_auth
from parley.web.schemas import DeleteUserBody

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


@bp.delete("/api/admin/users/<int:user_id>")
async def delete_user(user_id: int) -> Response:
    auth = await require_auth()
    # Read by hand, after the admin check: a non-admin learns nothing from the body.
    admin.require_admin(auth.account)
    try:
        data = DeleteUserBody.model_validate(await request.get_json() or {})
    except ValidationError:
        raise BadInput('messages must be "keep" or "erase".', code="invalid_messages") from None
    await lifecycle.delete_user(ctx(), auth.account, user_id, messages=data.messages)
    return Response(status=204)
