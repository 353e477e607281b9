"""Catching a connection up: every message after the client's cursors, then live.

A client that connects with ``?resume=1`` has its rooms' live messages held after
``ready`` until its ``resume`` frame (or RESUME_WAIT_S), so that the backfill and the
live messages come in one seq order. The backfill is read a page at a time, paced by
the client's reading, and each page is sent only if the member's grant still holds.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from parley.domain import frames
from parley.domain.context import Context
from parley.realtime import codec
from parley.realtime.connection import Connection
from parley.realtime.hub import Hub

RESUME_PAGE = 200
# A resume naming rooms the user is not in gets one error listing at most this many.
UNKNOWN_ROOMS_LISTED = 100
# How long rooms held for a client that said it will resume wait for its resume.
RESUME_WAIT_S = 3.0


def wants_resume(path: str) -> bool:
    """Whether the upgrade request said the client will resume (``/ws?resume=1``)."""
    return parse_qs(path.partition("?")[2]).get("resume") == ["1"]


def hold_until_resume(conn: Connection, waiting: dict[int, int]) -> None:
    """Keep the rooms ``ready`` listed (room id -> its last seq there) held for the
    client's resume, or until RESUME_WAIT_S has passed without one."""
    conn.awaiting_resume = waiting
    asyncio.get_running_loop().call_later(RESUME_WAIT_S, _stop_waiting, conn, waiting)


def _stop_waiting(conn: Connection, waiting: dict[int, int]) -> None:
    """No resume came in time: the held rooms go live from where ``ready`` left them."""
    if conn.awaiting_resume is waiting:
        conn.awaiting_resume = None
        for room_id, last_seq in waiting.items():
            conn.release(room_id, last_seq)


async def resume(ctx: Context, hub: Hub, conn: Connection, frame: codec.Resume) -> None:
    """Send every message after each cursor, in order, then ``resumed``."""
    unknown = sorted(room_id for room_id in frame.cursors if room_id not in conn.rooms)
    if unknown:
        # One frame for all of them: thousands of error frames would trip the queue bound.
        listed = ", ".join(str(room_id) for room_id in unknown[:UNKNOWN_ROOMS_LISTED])
        more = (
            f" and {len(unknown) - UNKNOWN_ROOMS_LISTED} more"
            if len(unknown) > UNKNOWN_ROOMS_LISTED
            else ""
        )
        conn.push(
            frames.error(
                "room_not_found",
                f"No such room: {listed}{more}.",
                room_ids=unknown[:UNKNOWN_ROOMS_LISTED],
            )
        )
    waiting, conn.awaiting_resume = conn.awaiting_resume, None
    for room_id, last_seq in (waiting or {}).items():
        if room_id not in frame.cursors or room_id not in conn.rooms:
            conn.release(room_id, last_seq)  # not resumed: live from ``ready`` on
    for room_id, cursor in sorted(frame.cursors.items()):
        if room_id not in conn.rooms:
            continue
        conn.hold(room_id)  # held since ``ready`` if the client asked: kept
        # Frames in [since, sent] already went out live on this connection.
        sent = conn.delivered.get(room_id, 0)
        since = conn.since.get(room_id, sent + 1)
        position = cursor
        # Where this connection's live stream of the room begins: the room's last seq in
        # ``ready`` (held since, if the client asked), else just before the first frame
        # sent live. A client already there has missed nothing the database could add:
        # what came later is held here, or was sent. Most rooms of a reconnect are so,
        # and a database read each would cost a person in 200 rooms a third of a second.
        live_from = waiting[room_id] if waiting and room_id in waiting else since - 1
        missed = cursor < live_from
        if not missed:
            position = max(cursor, sent)
        try:
            while missed and not conn.closing and room_id in conn.rooms:
                if position >= since - 1:
                    position = max(position, sent)
                await conn.drained()  # paced by the client's reading, not the bound
                if conn.closing or room_id not in conn.rooms:
                    break  # the grant ended (a leave event) while the client read
                page = await ctx.store.messages.page(
                    room_id, before_seq=None, after_seq=position, limit=RESUME_PAGE
                )
                if not await _may_still_read(ctx, hub, conn, room_id):
                    break
                for message in page:
                    if not since <= message.seq <= sent:
                        conn.push(frames.message(message))
                    position = message.seq
                if len(page) < RESUME_PAGE:
                    break
        finally:
            if room_id in conn.rooms:
                # Not hub.caught_up: one connection's read of the database may include
                # messages committed but not yet published, and starting the process's
                # stream past them would drop them for every other connection.
                conn.release(room_id, position)
                if not conn.closing:
                    conn.since[room_id] = min(since, cursor + 1)
    conn.push(frames.RESUMED)


async def _may_still_read(ctx: Context, hub: Hub, conn: Connection, room_id: int) -> bool:
    """Whether a page just read may go to ``conn``: the member's grant, as stored now.

    Checked after the page was read, so every message in it was committed while the
    user could still read the room. A grant found gone also stops the room's live
    frames for this connection at once, without waiting for the bus's leave event
    (which another process's outage may have lost).
    """
    if conn.closing or room_id not in conn.rooms:
        return False
    if await ctx.store.memberships.active_role_of(room_id, conn.user.id) is not None:
        return room_id in conn.rooms and not conn.closing
    hub.unfollow(conn, room_id)
    return False
