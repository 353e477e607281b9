"""Reactions: PUT and DELETE /api/messages/{id}/reactions/{emoji}."""

from __future__ import annotations

from quart import Blueprint, Response

from parley.domain import reactions
from parley.web.deps import ctx, require_user

bp = Blueprint("reactions", __name__)


@bp.put("/api/messages/<int:message_id>/reactions/<path:emoji>")
async def add(message_id: int, emoji: str) -> Response:
    user = await require_user()
    await reactions.react(ctx(), user, message_id, emoji, added=True)
    return Response(status=204)


@bp.delete("/api/messages/<int:message_id>/reactions/<path:emoji>")
async def remove(message_id: int, emoji: str) -> Response:
    user = await require_user()
    await reactions.react(ctx(), user, message_id, emoji, added=False)
    return Response(status=204)
