"""Threads: replies gathered under a root message, followed with a read marker each.

A thread reply is a message of the room like any other (the room's next seq, the same
resume rules) that names its root in ``thread_root_id``; posting one is
:func:`parley.domain.messaging.post`. This module reads threads and keeps who follows
them: a reply's author, the root's author and the people a reply mentions follow it by
themselves; anyone in the room may follow or stop following.
"""

from __future__ import annotations

from typing import Any

from parley.domain.context import Context
from parley.domain.messaging import PAGE_DEFAULT, PAGE_MAX, access_message
from parley.domain.models import Message, User
from parley.domain.numbers import parse_int
from parley.domain.ratelimit import spend
from parley.errors import BadInput, NotFound

# Followed threads listed at most (newest reply first).
FOLLOWED_MAX = 100


async def _root(ctx: Context, user: User, message_id: int) -> Message:
    """The thread root the user may read, or NotFound (also for a thread reply)."""
    message, _, _ = await access_message(ctx, user, message_id)
    if message.thread_root_id is not None:
        raise NotFound("That message is a thread reply, not a thread.", code="not_a_thread")
    return message


async def thread(
    ctx: Context,
    user: User,
    root_id: int,
    *,
    before_seq: int | None = None,
    after_seq: int | None = None,
    limit: int = PAGE_DEFAULT,
) -> dict[str, Any]:
    """The root, a page of its replies (ascending seq, paged as room history) and
    whether I follow it, with my read marker in it."""
    root = await _root(ctx, user, root_id)
    if limit < 1:
        raise BadInput("limit must be at least 1.", code="invalid_limit")
    replies = await ctx.store.threads.replies(
        root.id, before_seq=before_seq, after_seq=after_seq, limit=min(limit, PAGE_MAX)
    )
    read_seq = await ctx.store.threads.follow_state(root.id, user.id)
    return {
        "root": root,
        "replies": replies,
        "following": read_seq is not None,
        "read_seq": read_seq or 0,
    }


async def set_following(ctx: Context, user: User, root_id: int, *, following: bool) -> None:
    """Follow (from now: earlier replies count as read) or stop following a thread."""
    await spend(ctx.limits.sends, user.id, "You are changing threads too fast.")
    root = await _root(ctx, user, root_id)
    if following:
        room = await ctx.store.rooms.get(root.room_id)
        last_seq = room.last_seq if room is not None else 0
        await ctx.store.threads.follow(root.id, root.room_id, [user.id], ctx.clock(), last_seq)
    else:
        await ctx.store.threads.unfollow(root.id, user.id)


async def mark_read(ctx: Context, user: User, root_id: int, seq: object) -> int:
    """Move my read marker in a followed thread forward to ``seq`` (never back).

    Not rate limited: it writes only when the marker moves, at most once per reply.
    Raises NotFound (``not_following`` when I do not follow the thread).
    """
    checked = parse_int(seq, text=False)
    if checked is None:
        raise BadInput("seq must be a non-negative integer.", code="invalid_seq")
    root = await _root(ctx, user, root_id)
    room = await ctx.store.rooms.get(root.room_id)
    # Never past the room's end (nor past the store's integer range).
    checked = min(checked, room.last_seq if room is not None else 0)
    marker = await ctx.store.threads.mark_read(root.id, user.id, checked)
    if marker is None:
        raise NotFound("You do not follow this thread.", code="not_following")
    return marker


async def followed(ctx: Context, user: User) -> list[dict[str, Any]]:
    """My followed threads in rooms I am in, the newest reply first, with unread counts."""
    found = await ctx.store.threads.followed(user.id, FOLLOWED_MAX)
    return [{"root": f.root, "unread": f.unread, "read_seq": f.read_seq} for f in found]
