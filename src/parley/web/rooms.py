"""Rooms over HTTP: /api/rooms, members, join and leave, /api/dms."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import receipts, rooms
from parley.errors import BadInput
from parley.web.deps import ctx, require_user
from parley.web.schemas import DmBody, RoomBody, UsernameBody

bp = Blueprint("rooms", __name__)


@bp.get("/api/rooms")
async def list_rooms() -> Response:
    user = await require_user()
    scope = request.args.get("scope", "mine")
    if scope == "public":
        directory = await rooms.public_directory(ctx(), request.args.get("q", ""))
        mine = await rooms.my_room_ids(ctx(), user)
        return jsonify(
            {
                "rooms": [
                    {
                        "id": room.id,
                        "name": room.name,
                        "visibility": room.visibility,
                        "topic": room.topic,
                        "created_at": room.created_at,
                        "last_seq": room.last_seq,
                        "member_count": count,
                        "joined": room.id in mine,
                    }
                    for room, count in directory
                ]
            }
        )
    if scope != "mine":
        raise BadInput("scope is mine or public.", code="invalid_scope")
    return jsonify({"rooms": await rooms.my_rooms(ctx(), user)})


@bp.post("/api/rooms")
@validate_request(RoomBody)
async def create_room(data: RoomBody) -> tuple[Response, int]:
    user = await require_user()
    room = await rooms.create_room(ctx(), user, data.name, data.visibility, data.topic)
    return jsonify({"room": room}), 201


@bp.get("/api/rooms/<int:room_id>")
async def get_room(room_id: int) -> Response:
    user = await require_user()
    room, role = await rooms.access_room(ctx(), user, room_id)
    seen = await receipts.room_receipts(ctx(), user, room.id)
    return jsonify({"room": room, "role": role, "receipts": seen})


@bp.post("/api/rooms/<int:room_id>/join")
async def join(room_id: int) -> Response:
    user = await require_user()
    room = await rooms.join(ctx(), user, room_id)
    return jsonify({"room": room})


@bp.get("/api/rooms/<int:room_id>/members")
async def members(room_id: int) -> Response:
    user = await require_user()
    return jsonify({"members": await rooms.members(ctx(), user, room_id)})


@bp.post("/api/rooms/<int:room_id>/members")
@validate_request(UsernameBody)
async def add_member(room_id: int, data: UsernameBody) -> tuple[Response, int]:
    user = await require_user()
    member = await rooms.add_member(ctx(), user, room_id, data.username)
    return jsonify({"member": member}), 201


@bp.delete("/api/rooms/<int:room_id>/members/me")
async def leave(room_id: int) -> Response:
    user = await require_user()
    await rooms.leave(ctx(), user, room_id)
    return Response(status=204)


@bp.post("/api/rooms/<int:room_id>/read")
async def mark_read(room_id: int) -> Response:
    user = await require_user()
    # No body (or an empty one) marks everything read; a body that is not JSON is a 400.
    data = await request.get_json() or {}
    if not isinstance(data, dict):
        raise BadInput('Send {"seq": n}, or no body to mark everything read.', code="invalid_seq")
    # Without a seq: everything up to now is read ("mark room as read").
    marker = await rooms.mark_read(ctx(), user, room_id, data.get("seq"))
    return jsonify({"room_id": room_id, "read_seq": marker})


@bp.post("/api/dms")
@validate_request(DmBody)
async def open_dm(data: DmBody) -> tuple[Response, int]:
    user = await require_user()
    if data.usernames is not None:
        room, created = await rooms.open_group(ctx(), user, data.usernames)
    elif data.username is not None:
        room, created = await rooms.open_dm(ctx(), user, data.username)
    else:
        raise BadInput("Send username, or usernames for a group.", code="invalid_usernames")
    return jsonify({"room": room}), 201 if created else 200
