"""Incoming webhooks: POST a body to a secret URL and it appears in the room.

Each webhook posts as a bot user of its own whose display name is the webhook's name,
so its messages look like anyone's and need no special case in any client. Only a hash
of the secret is stored; the URL is shown once, when the webhook is created.
"""

from __future__ import annotations

import hmac
import secrets

from parley.domain import audit, messaging
from parley.domain.accounts import token_hash, validate_display_name
from parley.domain.context import Context
from parley.domain.models import Message, User, Webhook
from parley.domain.rooms import MANAGER_ROLES, access_room, announce_join
from parley.errors import Conflict, Forbidden, NotFound

MAX_WEBHOOKS_PER_ROOM = 20


def _not_found() -> NotFound:
    return NotFound("No such webhook.", code="webhook_not_found")


async def _manager(ctx: Context, actor: User, room_id: int) -> None:
    room, role = await access_room(ctx, actor, room_id)
    if room.kind != "channel":
        raise Forbidden("Direct-message rooms have no webhooks.", code="forbidden")
    if role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins manage webhooks.", code="forbidden")


async def create_webhook(
    ctx: Context, actor: User, room_id: int, name: str, *, ip: str = ""
) -> tuple[Webhook, str]:
    """A new webhook of the room (owner or admin) and its secret token."""
    await _manager(ctx, actor, room_id)
    label = validate_display_name(name, "")
    if not label:
        raise Conflict("A webhook needs a name.", code="invalid_name")
    if len(await ctx.store.webhooks.of_room(room_id)) >= MAX_WEBHOOKS_PER_ROOM:
        raise Conflict(f"At most {MAX_WEBHOOKS_PER_ROOM} webhooks a room.", code="too_many")
    bot = await ctx.store.bots.create(f"hook-{secrets.token_hex(8)}", label, actor.id, ctx.clock())
    await ctx.store.memberships.add_member(room_id, bot.id, "member", ctx.clock())
    await announce_join(ctx, room_id, bot)
    token = secrets.token_urlsafe(32)
    hook = await ctx.store.webhooks.create(
        room_id, label, token_hash(token), bot, actor.id, ctx.clock()
    )
    await audit.record(
        ctx, actor, "webhook.created", f"room:{room_id}", ip, {"webhook": hook.id, "name": label}
    )
    return hook, token


async def room_webhooks(ctx: Context, actor: User, room_id: int) -> list[Webhook]:
    await _manager(ctx, actor, room_id)
    return await ctx.store.webhooks.of_room(room_id)


async def delete_webhook(ctx: Context, actor: User, room_id: int, hook_id: int) -> None:
    """Delete the webhook: its URL stops working; its messages stay."""
    await _manager(ctx, actor, room_id)
    found = await ctx.store.webhooks.get(hook_id)
    if found is None or found[0].room_id != room_id:
        raise _not_found()
    hook = found[0]
    await ctx.store.webhooks.delete(hook.id)
    await ctx.store.users.set_disabled(hook.bot.id, True)


async def is_active(ctx: Context, hook: Webhook) -> bool:
    """Whether the webhook's creator may still manage its room (owner or admin, enabled).

    A webhook acts with its creator's right, checked at each use rather than copied
    when it was made: banning, removing, demoting or disabling the creator silences
    it at once, and restoring the role restores it.
    """
    return (
        await ctx.store.memberships.active_role_of(hook.room_id, hook.created_by) in MANAGER_ROLES
    )


async def post(
    ctx: Context, hook_id: int, token: str, body: object, client_id: object = None
) -> tuple[Message, bool]:
    """Post ``body`` as the webhook. NotFound alike for an unknown id and a wrong token;
    Forbidden (``webhook_inactive``) while its creator may not manage the room."""
    found = await ctx.store.webhooks.get(hook_id)
    if found is None:
        raise _not_found()
    hook, stored_hash = found
    if not hmac.compare_digest(stored_hash, token_hash(token or "")):
        raise _not_found()
    if not await is_active(ctx, hook):
        raise Forbidden(
            "This webhook's creator can no longer manage the room; an owner or admin "
            "must make a new one.",
            code="webhook_inactive",
        )
    return await messaging.post(ctx, hook.bot, hook.room_id, body, client_id)
