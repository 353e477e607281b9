"""Editing and deleting messages, with message_updated / message_deleted frames.

A deleted message stays in history as a tombstone (body "", deleted true) so that a
room's seq stays contiguous for clients catching up.
"""

from __future__ import annotations

from parley.bus.base import Event
from parley.domain import frames, mentions
from parley.domain.context import Context
from parley.domain.messaging import access_message, publish_thread_summary, validate_body
from parley.domain.models import Message, Room, User
from parley.domain.ratelimit import spend
from parley.errors import Conflict, Forbidden, NotFound

MODERATOR_ROLES = ("owner", "admin")


def check_writable(room: Room) -> None:
    """Forbidden(room_archived) for an archived room: it is read-only."""
    if room.archived_at is not None:
        raise Forbidden("This room is archived.", code="room_archived")


async def edit(ctx: Context, user: User, message_id: int, body: object) -> Message:
    """Replace the body of one of the user's messages; members get ``message_updated``.

    Raises NotFound (missing or not a member), Forbidden (not the author, or archived),
    Conflict (deleted), BadInput, RateLimited (past the sender's message budget).
    """
    if not isinstance(body, str):
        validate_body(body)  # raises invalid_body before anything is looked up
    # Every member receives the new body: edits share the budget of new messages.
    await spend(ctx.limits.sends, user.id, "You are editing messages too fast.")
    message, room, _ = await access_message(ctx, user, message_id)
    # A message with files may have its caption edited away, as it could be sent without.
    text = validate_body(body, has_attachments=bool(message.attachments))
    if message.author.id != user.id:
        raise Forbidden("Only the author can edit a message.", code="not_author")
    check_writable(room)
    if message.deleted:
        raise Conflict("This message was deleted.", code="message_deleted")
    names, room_call = mentions.parse(text)
    if room_call:
        await mentions.check_room_mention(ctx, user, room.id)
    changed = await ctx.store.edits.edit(
        message.id, room.id, message.seq, text, ctx.clock(), names, room_call
    )
    if not changed:
        raise Conflict("This message was deleted.", code="message_deleted")
    updated = await ctx.store.messages.get(message.id)
    if updated is None:
        raise NotFound("No such message.", code="message_not_found")
    frame = frames.message_updated(updated)
    await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))
    return updated


async def delete(ctx: Context, user: User, message_id: int, *, site_admin: bool = False) -> None:
    """Delete a message (the author, a room owner or admin, or a site admin).

    Deleting a tombstone again is a no-op. Members get ``message_deleted``.
    """
    message, room, role = await access_message(ctx, user, message_id, site_admin=site_admin)
    allowed = message.author.id == user.id or role in MODERATOR_ROLES or site_admin
    if not allowed:
        raise Forbidden("You can delete only your own messages.", code="forbidden")
    check_writable(room)
    if not await ctx.store.edits.delete(message.id, ctx.clock()):
        return
    frame = frames.message_deleted(room.id, message.id, message.seq)
    await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))
    if message.thread_root_id is not None:
        await publish_thread_summary(ctx, room.id, message.thread_root_id)
