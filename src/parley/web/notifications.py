"""Notifications: Web Push subscriptions, per-room levels, settings, digest unsubscribe.

``GET /api/push/key``; ``GET|POST /api/push/subscriptions``;
``DELETE /api/push/subscriptions/{id}``; ``PUT /api/rooms/{id}/notifications``;
``GET|PUT /api/me/notifications``; ``GET|POST /api/notifications/unsubscribe?token=``.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import digests, notify_prefs, push
from parley.errors import BadInput, Unavailable
from parley.web.deps import ctx, require_auth, require_user
from parley.web.schemas import NotificationPrefsBody, NotifyLevelBody, PushSubscriptionBody

bp = Blueprint("notifications", __name__)

UNSUBSCRIBED_PAGE = (
    "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    "<title>Parley: digests off</title><h1>No more digests</h1>"
    "<p>Parley will not email you about unread mentions any more. "
    "You can turn digests back on in Account, Notifications.</p>"
)


@bp.get("/api/push/key")
async def push_key() -> Response:
    await require_user()
    service = ctx().push
    if service is None:
        raise Unavailable("Push is not running on this server.")
    return jsonify({"public_key": service.public_key})


@bp.get("/api/push/subscriptions")
async def list_subscriptions() -> Response:
    user = await require_user()
    subs = await push.subscriptions(ctx(), user)
    return jsonify({"subscriptions": [push.subscription_json(s) for s in subs]})


@bp.post("/api/push/subscriptions")
@validate_request(PushSubscriptionBody)
async def subscribe(data: PushSubscriptionBody) -> tuple[Response, int]:
    auth = await require_auth()
    sub = await push.subscribe(
        ctx(),
        auth.user,
        data.endpoint,
        data.keys.model_dump(),
        request.headers.get("User-Agent", ""),
        auth.session_id,
    )
    return jsonify({"subscription": push.subscription_json(sub)}), 201


@bp.delete("/api/push/subscriptions/<int:subscription_id>")
async def unsubscribe_device(subscription_id: int) -> Response:
    user = await require_user()
    await push.unsubscribe(ctx(), user, subscription_id)
    return Response(status=204)


@bp.put("/api/rooms/<int:room_id>/notifications")
@validate_request(NotifyLevelBody)
async def set_level(room_id: int, data: NotifyLevelBody) -> Response:
    user = await require_user()
    level = await notify_prefs.set_level(ctx(), user, room_id, data.level)
    return jsonify({"room_id": room_id, "level": level})


@bp.get("/api/me/notifications")
async def get_prefs() -> Response:
    user = await require_user()
    return jsonify({"notifications": await notify_prefs.get_prefs(ctx(), user)})


@bp.put("/api/me/notifications")
@validate_request(NotificationPrefsBody)
async def put_prefs(data: NotificationPrefsBody) -> Response:
    user = await require_user()
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    prefs = await notify_prefs.put_prefs(ctx(), user, changes)
    return jsonify({"notifications": prefs})


@bp.route("/api/notifications/unsubscribe", methods=["GET", "POST"])
async def unsubscribe() -> Response:
    # No session: the signed token is the key. POST is the mail client's one-click
    # (RFC 8058); GET is the link in the mail's text.
    token = request.args.get("token", "")
    if not token:
        raise BadInput("The link has no token.", code="invalid_token")
    await digests.unsubscribe(ctx(), token)
    if request.method == "POST":
        return Response(status=204)
    return Response(UNSUBSCRIBED_PAGE, content_type="text/html; charset=utf-8")
