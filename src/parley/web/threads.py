"""Threads over HTTP: a thread's replies, following, read markers, my followed threads.

Posting a thread reply is POST /api/rooms/{id}/messages with ``thread_root_id``.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import messaging, threads
from parley.web.deps import ctx, require_user
from parley.web.params import int_arg
from parley.web.schemas import ThreadReadBody

bp = Blueprint("threads", __name__)


@bp.get("/api/messages/<int:message_id>/thread")
async def thread(message_id: int) -> Response:
    user = await require_user()
    limit = int_arg("limit")
    found = await threads.thread(
        ctx(),
        user,
        message_id,
        before_seq=int_arg("before_seq"),
        after_seq=int_arg("after_seq"),
        limit=messaging.PAGE_DEFAULT if limit is None else limit,
    )
    return jsonify(found)


@bp.put("/api/messages/<int:message_id>/follow")
async def follow(message_id: int) -> Response:
    user = await require_user()
    await threads.set_following(ctx(), user, message_id, following=True)
    return Response(status=204)


@bp.delete("/api/messages/<int:message_id>/follow")
async def unfollow(message_id: int) -> Response:
    user = await require_user()
    await threads.set_following(ctx(), user, message_id, following=False)
    return Response(status=204)


@bp.post("/api/messages/<int:message_id>/thread/read")
@validate_request(ThreadReadBody)
async def read(message_id: int, data: ThreadReadBody) -> Response:
    user = await require_user()
    marker = await threads.mark_read(ctx(), user, message_id, data.seq)
    return jsonify({"read_seq": marker})


@bp.get("/api/threads")
async def followed() -> Response:
    user = await require_user()
    return jsonify({"threads": await threads.followed(ctx(), user)})
