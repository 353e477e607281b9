"""Site administration over HTTP: /api/admin/* (people, rooms, settings, audit log).

Every route answers 403 ``admin_only`` to anyone but a site admin (domain/admin.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import admin, audit, lifecycle, server_settings
from parley.domain.models import PersonRow, RoomRow
from parley.errors import BadInput
from parley.web.deps import client_ip, ctx, require_auth
from parley.web.params import int_arg
from parley.web.schemas import DeleteUserBody, RoomOwnerBody, SettingsBody, SiteAdminBody

bp = Blueprint("admin", __name__)


def _person(row: PersonRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "created_at": row.created_at,
        "is_admin": row.is_admin,
        "disabled": row.disabled,
        "totp_enabled": row.totp_enabled,
        "last_seen_at": row.last_seen_at,
    }


def _room(row: RoomRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "visibility": row.visibility,
        "created_at": row.created_at,
        "archived_at": row.archived_at,
        "member_count": row.member_count,
        "message_count": row.message_count,
        "last_activity_at": row.last_activity_at,
        "owner": (
            {"id": row.owner_id, "username": row.owner_username}
            if row.owner_id is not None
            else None
        ),
    }


def _page() -> tuple[str, int, int]:
    limit = int_arg("limit", minimum=1, maximum=admin.PAGE_MAX) or 50
    offset = int_arg("offset", maximum=1_000_000) or 0
    return request.args.get("q", ""), limit, offset


@bp.get("/api/admin/users")
async def people() -> Response:
    auth = await require_auth()
    q, limit, offset = _page()
    rows = await admin.people(ctx(), auth.account, q, limit=limit, offset=offset)
    return jsonify({"users": [_person(r) for r in rows]})


@bp.post("/api/admin/users/<int:user_id>/disable")
async def disable(user_id: int) -> Response:
    auth = await require_auth()
    user = await admin.set_disabled(ctx(), auth.account, user_id, True, ip=client_ip())
    return jsonify({"user": user, "disabled": True})


@bp.post("/api/admin/users/<int:user_id>/enable")
async def enable(user_id: int) -> Response:
    auth = await require_auth()
    user = await admin.set_disabled(ctx(), auth.account, user_id, False, ip=client_ip())
    return jsonify({"user": user, "disabled": False})


@bp.delete("/api/admin/users/<int:user_id>")
async def delete_user(user_id: int) -> Response:
    auth = await require_auth()
    # Read by hand, after the admin check: a non-admin learns nothing from the body.
    admin.require_admin(auth.account)
    try:
        data = DeleteUserBody.model_validate(await request.get_json() or {})
    except ValidationError:
        raise BadInput('messages must be "keep" or "erase".', code="invalid_messages") from None
    await lifecycle.delete_user(
        ctx(), auth.account, user_id, messages=data.messages, ip=client_ip()
    )
    return Response(status=204)


@bp.post("/api/admin/users/<int:user_id>/2fa/reset")
async def reset_two_factor(user_id: int) -> Response:
    auth = await require_auth()
    user = await admin.reset_two_factor(ctx(), auth.account, user_id, ip=client_ip())
    return jsonify({"user": user, "totp_enabled": False})


@bp.put("/api/admin/users/<int:user_id>/admin")
@validate_request(SiteAdminBody)
async def set_site_admin(user_id: int, data: SiteAdminBody) -> Response:
    auth = await require_auth()
    user = await admin.set_site_admin(ctx(), auth.account, user_id, data.is_admin, ip=client_ip())
    return jsonify({"user": user, "is_admin": data.is_admin})


@bp.post("/api/admin/users/<int:user_id>/password-reset")
async def password_reset_link(user_id: int) -> tuple[Response, int]:
    auth = await require_auth()
    context = ctx()
    base = context.settings.public_url or request.host_url
    link = await admin.issue_password_reset(context, auth.account, user_id, base, ip=client_ip())
    return jsonify({"url": link.url, "expires_at": link.expires_at}), 201


@bp.get("/api/admin/rooms")
async def rooms() -> Response:
    auth = await require_auth()
    q, limit, offset = _page()
    rows = await admin.rooms(ctx(), auth.account, q, limit=limit, offset=offset)
    return jsonify({"rooms": [_room(r) for r in rows]})


@bp.post("/api/admin/rooms/<int:room_id>/archive")
async def archive(room_id: int) -> Response:
    auth = await require_auth()
    row = await admin.set_room_archived(ctx(), auth.account, room_id, True, ip=client_ip())
    return jsonify({"room": _room(row)})


@bp.post("/api/admin/rooms/<int:room_id>/unarchive")
async def unarchive(room_id: int) -> Response:
    auth = await require_auth()
    row = await admin.set_room_archived(ctx(), auth.account, room_id, False, ip=client_ip())
    return jsonify({"room": _room(row)})


@bp.put("/api/admin/rooms/<int:room_id>/owner")
@validate_request(RoomOwnerBody)
async def change_owner(room_id: int, data: RoomOwnerBody) -> Response:
    auth = await require_auth()
    row = await admin.change_room_owner(ctx(), auth.account, room_id, data.user_id, ip=client_ip())
    return jsonify({"room": _room(row)})


@bp.get("/api/admin/settings")
async def get_settings() -> Response:
    auth = await require_auth()
    found = await admin.settings(ctx(), auth.account)
    return jsonify({"settings": server_settings.as_json(found)})


@bp.patch("/api/admin/settings")
@validate_request(SettingsBody)
async def change_settings(data: SettingsBody) -> Response:
    auth = await require_auth()
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    found = await admin.change_settings(ctx(), auth.account, changes, ip=client_ip())
    return jsonify({"settings": server_settings.as_json(found)})


def _filters() -> dict[str, str | None]:
    args = request.args
    return {name: args.get(name) for name in ("actor", "action", "since", "until")}


@bp.get("/api/admin/audit")
async def audit_log() -> Response:
    auth = await require_auth()
    limit = int_arg("limit", minimum=1, maximum=audit.PAGE_MAX) or 100
    before = int_arg("before", minimum=1)
    found = await admin.audit_entries(ctx(), auth.account, before=before, limit=limit, **_filters())
    return jsonify({"entries": found, "actions": list(audit.ACTIONS)})


@bp.get("/api/admin/audit.jsonl")
async def audit_export() -> Response:
    auth = await require_auth()
    context = ctx()
    filters = _filters()
    await admin.audit_entries(context, auth.account, limit=1, **filters)  # checks and filters
    await audit.record(context, auth.user, "export.audit", "audit", client_ip(), filters)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = Response(audit.export_lines(context, **filters), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = f'attachment; filename="parley-audit-{stamp}.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response
