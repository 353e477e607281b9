"""Running a room over HTTP: PATCH the room, roles, remove and ban, archive."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import room_admin
from parley.web.deps import client_ip, ctx, require_user

bp = Blueprint("room_admin", __name__)


class RoomPatchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, max_length=256)
    topic: str | None = Field(default=None, max_length=2000)
    # Days messages are kept (null: the server's default); see domain/retention.py.
    retention_days: int | None = Field(default=None, ge=1, le=36_500, strict=True)


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str = Field(max_length=16)


@bp.patch("/api/rooms/<int:room_id>")
@validate_request(RoomPatchBody)
async def update_room(room_id: int, data: RoomPatchBody) -> Response:
    user = await require_user()
    retention = (data.retention_days,) if "retention_days" in data.model_fields_set else None
    room = await room_admin.update_room(
        ctx(), user, room_id, name=data.name, topic=data.topic, retention=retention
    )
    return jsonify({"room": room})


@bp.patch("/api/rooms/<int:room_id>/members/<int:user_id>")
@validate_request(RoleBody)
async def set_role(room_id: int, user_id: int, data: RoleBody) -> Response:
    user = await require_user()
    role = await room_admin.set_role(ctx(), user, room_id, user_id, data.role)
    return jsonify({"member": {"id": user_id, "role": role}})


@bp.delete("/api/rooms/<int:room_id>/members/<int:user_id>")
async def remove_member(room_id: int, user_id: int) -> Response:
    user = await require_user()
    ban = request.args.get("ban", "").lower() in ("1", "true", "yes")
    await room_admin.remove_member(ctx(), user, room_id, user_id, ban=ban, ip=client_ip())
    return Response(status=204)


@bp.get("/api/rooms/<int:room_id>/bans")
async def bans(room_id: int) -> Response:
    user = await require_user()
    return jsonify({"bans": await room_admin.bans(ctx(), user, room_id)})


@bp.delete("/api/rooms/<int:room_id>/bans/<int:user_id>")
async def unban(room_id: int, user_id: int) -> Response:
    user = await require_user()
    await room_admin.unban(ctx(), user, room_id, user_id)
    return Response(status=204)


@bp.post("/api/rooms/<int:room_id>/archive")
async def archive(room_id: int) -> Response:
    user = await require_user()
    return jsonify({"room": await room_admin.set_archived(ctx(), user, room_id, True)})


@bp.delete("/api/rooms/<int:room_id>/archive")
async def unarchive(room_id: int) -> Response:
    user = await require_user()
    return jsonify({"room": await room_admin.set_archived(ctx(), user, room_id, False)})
