"""Read receipts: in direct messages and rooms of up to RECEIPTS_MAX_MEMBERS people, the
members see how far each other has read (their read markers).

Each person may turn them off (``users.read_receipts``, on by default). Off works both
ways, as in most chat apps: others stop seeing my marker, and I stop seeing theirs, so
nobody watches others while hiding themselves. When a marker moves, the room's other
members with receipts on get a ``receipt`` frame, at most one per reader and room per
second (the latest position: ``ctx.receipts`` coalesces).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context
from parley.domain.models import User
from parley.domain.ratelimit import spend
from parley.errors import BadInput

# Past this many members a room shows no receipts (a list of names nobody reads, and a
# frame to everyone for every reader).
RECEIPTS_MAX_MEMBERS = 20


def marker_moved(ctx: Context, user: User, room_id: int) -> None:
    """The user's read marker in the room moved: tell the others, soon (coalesced)."""
    ctx.receipts.offer((room_id, user.id), None, partial(_send, ctx))


async def _send(ctx: Context, key: tuple[int, int], _: object) -> None:
    room_id, user_id = key
    readers = await ctx.store.receipts.readers(room_id, RECEIPTS_MAX_MEMBERS)
    if readers is None:
        return
    reader = next((r for r in readers if r.user_id == user_id), None)
    if reader is None or not reader.receipts:
        return  # left the room meanwhile, or receipts off
    recipients = [r.user_id for r in readers if r.receipts and r.user_id != user_id]
    if recipients:
        frame = frames.receipt(room_id, user_id, reader.read_seq)
        await ctx.bus.publish(Event(kind="users", user_ids=recipients, payload=frame))


async def room_receipts(ctx: Context, user: User, room_id: int) -> list[dict[str, Any]] | None:
    """The other members' read markers for a member of the room (checked by the caller),
    or None: my receipts are off, or the room has more than RECEIPTS_MAX_MEMBERS people."""
    if not await ctx.store.receipts.enabled(user.id):
        return None
    readers = await ctx.store.receipts.readers(room_id, RECEIPTS_MAX_MEMBERS)
    if readers is None:
        return None
    return [
        {"user_id": r.user_id, "read_seq": r.read_seq}
        for r in readers
        if r.receipts and r.user_id != user.id
    ]


async def enabled(ctx: Context, user: User) -> bool:
    return await ctx.store.receipts.enabled(user.id)


async def set_enabled(ctx: Context, user: User, on: object) -> None:
    if not isinstance(on, bool):
        raise BadInput("enabled is true or false.", code="invalid_enabled")
    await spend(ctx.limits.sends, user.id, "You are changing settings too fast.")
    await ctx.store.receipts.set_enabled(user.id, on)
