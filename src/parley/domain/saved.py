"""Saved messages: a person's private list, readable only while they can read the message.

Saving needs access to the message; reading the list checks it again, so a message in a
room I have left (or was removed from) drops out of my list without a trace.
"""

from __future__ import annotations

from typing import Any

from parley.domain.context import Context
from parley.domain.messaging import access_message
from parley.domain.models import User
from parley.domain.ratelimit import spend
from parley.errors import Conflict

MAX_SAVED = 1000
LIST_MAX = 200


async def save(ctx: Context, user: User, message_id: int) -> None:
    """Save a message I can read (again: no change). NotFound, Conflict, RateLimited."""
    await spend(ctx.limits.sends, user.id, "You are saving too fast.")
    message, _, _ = await access_message(ctx, user, message_id)
    if message.deleted:
        raise Conflict("This message was deleted.", code="message_deleted")
    if await ctx.store.saved.count(user.id) >= MAX_SAVED:
        raise Conflict(f"You can keep at most {MAX_SAVED} saved messages.", code="too_many_saved")
    await ctx.store.saved.save(user.id, message.id, ctx.clock())


async def unsave(ctx: Context, user: User, message_id: int) -> None:
    """Take a message off my list (whether or not I can still read it; no change if absent).

    Only my own row is touched, so this tells nothing about the message.
    """
    await spend(ctx.limits.sends, user.id, "You are saving too fast.")
    await ctx.store.saved.unsave(user.id, message_id)


async def saved(ctx: Context, user: User) -> list[dict[str, Any]]:
    """My saved messages that I can still read, newest saved first (at most LIST_MAX)."""
    return [
        {"message": s.message, "saved_at": s.at}
        for s in await ctx.store.saved.of_user(user.id, LIST_MAX)
    ]
