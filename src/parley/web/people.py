"""People over HTTP: profile cards, my profile, status, avatar and preview settings.

GET /api/users/{username}, PATCH /api/me/profile, PUT /api/me/status,
PUT/DELETE /api/me/avatar, GET /api/avatars/{user_id}/{version}?size=,
GET/PUT /api/me/previews. The rules are domain/people.py's.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import people
from parley.domain.models import Profile
from parley.web.deps import ctx, current_auth, require_user
from parley.web.media import serve_blob
from parley.web.params import int_arg
from parley.web.schemas import AvatarBody, PeopleProfileBody, PreviewPrefsBody, StatusBody

bp = Blueprint("people", __name__)

# The version is in the URL: the bytes behind one never change.
AVATAR_CACHE_CONTROL = "private, max-age=31536000, immutable"


def _profile(found: Profile) -> dict[str, Any]:
    return {"user": found}


@bp.get("/api/users/<username>")
async def profile(username: str) -> Response:
    user = await require_user()
    return jsonify(_profile(await people.profile(ctx(), user, username)))


@bp.get("/api/me/profile")
async def my_profile() -> Response:
    user = await require_user()
    return jsonify(_profile(await people.own_profile(ctx(), user)))


@bp.patch("/api/me/profile")
@validate_request(PeopleProfileBody)
async def update_profile(data: PeopleProfileBody) -> Response:
    user = await require_user()
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    return jsonify(_profile(await people.update_profile(ctx(), user, changes)))


@bp.put("/api/me/status")
@validate_request(StatusBody)
async def set_status(data: StatusBody) -> Response:
    user = await require_user()
    found = await people.set_status(ctx(), user, data.status, data.text, data.expires_at)
    return jsonify({"status": found})


@bp.put("/api/me/avatar")
@validate_request(AvatarBody)
async def set_avatar(data: AvatarBody) -> Response:
    user = await require_user()
    return jsonify(_profile(await people.set_avatar(ctx(), user, data.file_id)))


@bp.delete("/api/me/avatar")
async def clear_avatar() -> Response:
    user = await require_user()
    await people.clear_avatar(ctx(), user)
    return Response(status=204)


@bp.get("/api/avatars/<int:user_id>/<version>")
async def avatar(user_id: int, version: str) -> Response:
    auth = await current_auth()
    size = int_arg("size", minimum=1, maximum=4096) or people.AVATAR_DEFAULT_SIZE
    key, kind = await people.avatar(ctx(), auth.user if auth else None, user_id, version[:32], size)
    return await serve_blob(key, kind, AVATAR_CACHE_CONTROL)


@bp.get("/api/me/previews")
async def preview_prefs() -> Response:
    user = await require_user()
    return jsonify({"previews": await people.preview_prefs(ctx(), user)})


@bp.put("/api/me/previews")
@validate_request(PreviewPrefsBody)
async def set_preview_prefs(data: PreviewPrefsBody) -> Response:
    user = await require_user()
    found = await people.set_preview_prefs(ctx(), user, data.show, data.generate)
    return jsonify({"previews": found})
