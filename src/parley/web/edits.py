"""Editing and deleting messages: PATCH and DELETE /api/messages/{id}."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import edits
from parley.web.deps import ctx, require_auth, require_user

bp = Blueprint("edits", __name__)


class EditBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    body: str = Field(max_length=100_000)


@bp.patch("/api/messages/<int:message_id>")
@validate_request(EditBody)
async def edit(message_id: int, data: EditBody) -> Response:
    user = await require_user()
    message = await edits.edit(ctx(), user, message_id, data.body)
    return jsonify({"message": message})


@bp.delete("/api/messages/<int:message_id>")
async def delete(message_id: int) -> Response:
    auth = await require_auth()
    await edits.delete(ctx(), auth.user, message_id, site_admin=auth.account.is_admin)
    return Response(status=204)
