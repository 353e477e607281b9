"""Incoming webhooks: manage them per room; POST /api/hooks/{id}/{token} posts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import webhooks
from parley.domain.models import Webhook
from parley.errors import BadInput
from parley.web.deps import client_ip, ctx, require_user

bp = Blueprint("webhooks", __name__)


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=256)


def _shape(hook: Webhook, token: str | None = None) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "id": hook.id,
        "room_id": hook.room_id,
        "name": hook.name,
        "created_at": hook.created_at,
        "user": hook.bot,
    }
    if token is not None:  # shown once: only a hash is stored
        shaped["url"] = f"{request.host_url.rstrip('/')}/api/hooks/{hook.id}/{token}"
    return shaped


@bp.post("/api/rooms/<int:room_id>/webhooks")
@validate_request(WebhookBody)
async def create_webhook(room_id: int, data: WebhookBody) -> tuple[Response, int]:
    user = await require_user()
    hook, token = await webhooks.create_webhook(ctx(), user, room_id, data.name, ip=client_ip())
    return jsonify({"webhook": _shape(hook, token)}), 201


@bp.get("/api/rooms/<int:room_id>/webhooks")
async def list_webhooks(room_id: int) -> Response:
    user = await require_user()
    found = await webhooks.room_webhooks(ctx(), user, room_id)
    return jsonify({"webhooks": [_shape(h) for h in found]})


@bp.delete("/api/rooms/<int:room_id>/webhooks/<int:hook_id>")
async def delete_webhook(room_id: int, hook_id: int) -> Response:
    user = await require_user()
    await webhooks.delete_webhook(ctx(), user, room_id, hook_id)
    return Response(status=204)


@bp.post("/api/hooks/<int:hook_id>/<token>")
async def post_as_webhook(hook_id: int, token: str) -> tuple[Response, int]:
    """No session and no CSRF: the secret in the URL is the authentication."""
    data = await request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadInput('Send JSON: {"body": "..."}.', code="invalid_json")
    # "text" too, so that tools written for Slack-style webhooks work unchanged.
    body = data.get("body", data.get("text"))
    message, created = await webhooks.post(ctx(), hook_id, token, body, data.get("client_id"))
    return jsonify({"message": message}), 201 if created else 200
