"""Messages over HTTP: history paging and posting (the same domain call as /ws)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import messaging
from parley.web.deps import ctx, require_user
from parley.web.params import int_arg
from parley.web.schemas import MessageBody

bp = Blueprint("messages", __name__)


@bp.get("/api/rooms/<int:room_id>/messages")
async def history(room_id: int) -> Response:
    user = await require_user()
    limit = int_arg("limit")
    found = await messaging.history(
        ctx(),
        user,
        room_id,
        before_seq=int_arg("before_seq"),
        after_seq=int_arg("after_seq"),
        limit=messaging.PAGE_DEFAULT if limit is None else limit,
    )
    return jsonify({"messages": found})


@bp.post("/api/rooms/<int:room_id>/messages")
@validate_request(MessageBody)
async def post(room_id: int, data: MessageBody) -> tuple[Response, int]:
    user = await require_user()
    message, created = await messaging.post(
        ctx(),
        user,
        room_id,
        data.body,
        data.client_id,
        reply_to=data.reply_to,
        attachments=data.attachments,
        thread_root_id=data.thread_root_id,
        also_to_room=data.also_to_room,
    )
    return jsonify({"message": message}), 201 if created else 200
