"""Finding people: GET /api/users?q= for direct messages and mention completion."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from parley.web.deps import ctx, require_user

bp = Blueprint("users", __name__)

SEARCH_LIMIT = 20


@bp.get("/api/users")
async def search() -> Response:
    await require_user()
    prefix = request.args.get("q", "")[:32]
    return jsonify({"users": await ctx().store.users.search(prefix, SEARCH_LIMIT)})
