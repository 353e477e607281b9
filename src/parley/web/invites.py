"""Invite links: POST /api/rooms/{id}/invites, POST /api/invites/{code}/accept."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import invites
from parley.web.deps import ctx, require_user

bp = Blueprint("invites", __name__)


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    expires_in: int | None = Field(default=None, ge=0, le=10**9)


@bp.post("/api/rooms/<int:room_id>/invites")
@validate_request(InviteBody)
async def create_invite(room_id: int, data: InviteBody) -> tuple[Response, int]:
    user = await require_user()
    invite = await invites.create_invite(ctx(), user, room_id, data.expires_in)
    url = f"{request.host_url.rstrip('/')}/invite/{invite.code}"
    body = {
        "code": invite.code,
        "url": url,
        "expires_at": invite.expires_at,
        "room_id": invite.room_id,
    }
    return jsonify({"invite": body}), 201


@bp.post("/api/invites/<code>/accept")
async def accept(code: str) -> Response:
    user = await require_user()
    return jsonify({"room": await invites.accept(ctx(), user, code)})
