"""Invite links that expire: an owner or admin makes one, anyone signed in accepts it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parley.domain.context import Context
from parley.domain.models import Room, User
from parley.domain.rooms import MANAGER_ROLES, access_room, announce_join
from parley.errors import BadInput, Forbidden, NotFound, ParleyError

DEFAULT_EXPIRES_IN_S = 7 * 24 * 3600
MAX_EXPIRES_IN_S = 30 * 24 * 3600
MIN_EXPIRES_IN_S = 60
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class InviteExpired(ParleyError):
    """This invite has expired."""

    status = 410
    code = "invite_expired"


@dataclass(slots=True, frozen=True)
class Invite:
    code: str
    room_id: int
    expires_at: str


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _later(now: str, seconds: int) -> str:
    start = datetime.strptime(now, TIME_FORMAT).replace(tzinfo=UTC)
    return (start + timedelta(seconds=seconds)).strftime(TIME_FORMAT)


async def create_invite(ctx: Context, actor: User, room_id: int, expires_in: int | None) -> Invite:
    """A new invite code for the room (owner or admin), valid for ``expires_in`` seconds."""
    room, role = await access_room(ctx, actor, room_id)
    if room.kind != "channel":
        raise Forbidden("Direct-message rooms have exactly two members.", code="forbidden")
    if role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can invite.", code="forbidden")
    seconds = DEFAULT_EXPIRES_IN_S if expires_in is None else expires_in
    if not MIN_EXPIRES_IN_S <= seconds <= MAX_EXPIRES_IN_S:
        raise BadInput(
            f"expires_in is {MIN_EXPIRES_IN_S} to {MAX_EXPIRES_IN_S} seconds.",
            code="invalid_expires_in",
        )
    code = secrets.token_urlsafe(18)
    now = ctx.clock()
    expires_at = _later(now, seconds)
    await ctx.store.invites.create(code_hash(code), room_id, actor.id, now, expires_at)
    return Invite(code, room_id, expires_at)


async def check_code(ctx: Context, code: str) -> Room:
    """The room of a usable invite (an invite-only sign-up's ticket), joining no one.
    NotFound if unknown, InviteExpired, Forbidden ``invite_inactive``."""
    return await _usable(ctx, code)


async def accept(ctx: Context, user: User, code: str) -> Room:
    """Join the invite's room. NotFound if unknown, InviteExpired, Forbidden if banned
    or if its maker may no longer invite (``invite_inactive``)."""
    room = await _usable(ctx, code)
    if await ctx.store.room_admin.is_banned(room.id, user.id):
        raise Forbidden("You were banned from this room.", code="banned")
    if await ctx.store.memberships.add_member(room.id, user.id, "member", ctx.clock()):
        await announce_join(ctx, room.id, user)
    return room


async def _usable(ctx: Context, code: str) -> Room:
    found = await ctx.store.invites.lookup(code_hash(code or ""))
    if found is None:
        raise NotFound("No such invite.", code="invite_not_found")
    room_id, expires_at, created_by = found
    if expires_at <= ctx.clock():
        raise InviteExpired("This invite has expired; ask for a new one.")
    if await ctx.store.memberships.active_role_of(room_id, created_by) not in MANAGER_ROLES:
        # The link carries its maker's right to invite, and that right is gone (banned,
        # removed, demoted, left or disabled): checked now, not when it was made.
        raise Forbidden(
            "This invite is no longer valid; ask the room for a new one.", code="invite_inactive"
        )
    room = await ctx.store.rooms.get(room_id)
    if room is None:
        raise NotFound("No such invite.", code="invite_not_found")
    return room
