"""Reactions with any emoji (or a short name such as "+1"); members get ``reaction`` frames."""

from __future__ import annotations

import re
import unicodedata

import emoji as emoji_data

from parley.bus.base import Event
from parley.domain import custom_emoji, frames
from parley.domain.context import Context
from parley.domain.edits import check_writable
from parley.domain.messaging import access_message
from parley.domain.models import User
from parley.domain.ratelimit import spend
from parley.errors import BadInput, Conflict

EMOJI_MAX_CHARS = 34  # ":" + a 32-character custom emoji name + ":"
# Short names for servers without a picker: letters, digits and _ + - only.
SHORT_NAME_RE = re.compile(r"[a-z0-9_+-]{1,32}")
# Distinct emoji on one message: generous for people, a wall for scripts.
MAX_EMOJI_PER_MESSAGE = 50


def validate_emoji(value: object) -> str:
    """The reaction key, NFC-normalised; BadInput unless an emoji, a short name or a
    custom emoji's ``:name:``."""
    if not isinstance(value, str):
        raise BadInput("A reaction is an emoji.", code="invalid_emoji")
    key = unicodedata.normalize("NFC", value.strip())
    if not key or len(key) > EMOJI_MAX_CHARS:
        raise BadInput("A reaction is an emoji.", code="invalid_emoji")
    if emoji_data.is_emoji(key) or SHORT_NAME_RE.fullmatch(key):
        return key
    if custom_emoji.reaction_name(key) is not None:
        return key  # that it exists is checked by react()
    raise BadInput("A reaction is an emoji or a short name.", code="invalid_emoji")


async def react(ctx: Context, user: User, message_id: int, emoji: object, *, added: bool) -> None:
    """Add (``added``) or remove the user's reaction; repeats change nothing and send nothing.

    Raises NotFound (missing message or not a member), BadInput, Conflict (deleted
    message, too many emoji), Forbidden (archived room), RateLimited (past the
    sender's message budget).
    """
    key = validate_emoji(emoji)
    if added:
        await custom_emoji.check_reaction(ctx, key)
    # Every member receives a reaction frame: reactions share the budget of new messages.
    await spend(ctx.limits.sends, user.id, "You are reacting too fast.")
    message, room, _ = await access_message(ctx, user, message_id)
    check_writable(room)
    if message.deleted:
        raise Conflict("This message was deleted.", code="message_deleted")
    if added:
        if key not in message.reactions and len(message.reactions) >= MAX_EMOJI_PER_MESSAGE:
            raise Conflict("This message has too many different reactions.", code="too_many")
        changed = await ctx.store.reactions.add(message.id, user.id, key, ctx.clock())
    else:
        changed = await ctx.store.reactions.remove(message.id, user.id, key)
    if not changed:
        return
    frame = frames.reaction(room.id, message.id, key, user.id, added)
    await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))
