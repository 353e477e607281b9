"""Search: GET /api/search?q=&room_id=&author=&limit=."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from parley.domain import search
from parley.web.deps import ctx, require_user
from parley.web.params import int_arg

bp = Blueprint("search", __name__)


@bp.get("/api/search")
async def search_messages() -> Response:
    user = await require_user()
    limit = int_arg("limit", minimum=1)
    found = await search.search(
        ctx(),
        user,
        request.args.get("q", ""),
        room_id=int_arg("room_id", minimum=1),
        author=request.args.get("author") or None,
        limit=search.RESULTS_DEFAULT if limit is None else limit,
    )
    return jsonify({"messages": found})
