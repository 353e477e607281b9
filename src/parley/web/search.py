"""Search: GET /api/search?q=&room_id=&author=&limit=."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from parley.domain import search
from parley.errors import BadInput
from parley.web.deps import ctx, require_user

bp = Blueprint("search", __name__)


def _positive_int(name: str) -> int | None:
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise BadInput(f"{name} must be a positive integer.", code="invalid_" + name)
    return int(raw)


@bp.get("/api/search")
async def search_messages() -> Response:
    user = await require_user()
    limit = _positive_int("limit")
    found = await search.search(
        ctx(),
        user,
        request.args.get("q", ""),
        room_id=_positive_int("room_id"),
        author=request.args.get("author") or None,
        limit=search.RESULTS_DEFAULT if limit is None else limit,
    )
    return jsonify({"messages": found})
