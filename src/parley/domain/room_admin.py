"""Running a room: name and topic, roles, removing and banning members, archiving.

Roles: the owner (one), admins, members. Owners and admins manage the room; only the
owner changes roles and archives. Everything is reached through ``access_room``, so a
non-member gets "not found" whatever they try.
"""

from __future__ import annotations

from parley.bus.base import Event
from parley.domain import audit, frames
from parley.domain.context import Context
from parley.domain.models import Room, User
from parley.domain.retention import validate_days
from parley.domain.rooms import (
    MANAGER_ROLES,
    access_room,
    validate_name,
    validate_topic,
)
from parley.errors import BadInput, Forbidden, NotFound

ROLES = ("owner", "admin", "member")


def _check_channel(room: Room) -> None:
    if room.kind != "channel":
        raise Forbidden("Direct-message rooms cannot be managed.", code="forbidden")


async def _publish_room(ctx: Context, room: Room) -> None:
    frame = frames.room_updated(room)
    await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))


async def update_room(
    ctx: Context,
    actor: User,
    room_id: int,
    *,
    name: str | None,
    topic: str | None,
    retention: tuple[int | None] | None = None,
) -> Room:
    """Rename the room, change its topic or its retention (owner or admin); members get
    ``room_updated``. ``retention``: not given (None), or a one-tuple of the number of
    days messages are kept (at least one), or of None for the server's default."""
    room, role = await access_room(ctx, actor, room_id)
    _check_channel(room)
    if role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can change it.", code="forbidden")
    values: dict[str, str | int | None] = {}
    if name is not None:
        values["name"] = validate_name(name)
    if topic is not None:
        values["topic"] = validate_topic(topic)
    if retention is not None:
        days = retention[0]
        values["retention_days"] = None if days is None else validate_days(days)
    if not values:
        raise BadInput("Send a name, a topic or retention_days.", code="nothing_to_change")
    await ctx.store.rooms.update(room_id, **values)
    updated = await ctx.store.rooms.get(room_id)
    assert updated is not None
    await _publish_room(ctx, updated)
    return updated


async def set_role(ctx: Context, actor: User, room_id: int, target_id: int, role: str) -> str:
    """The owner makes a member an admin or a member again, or hands ownership over.

    Handing over ownership makes the old owner an admin. Members get ``member_updated``.
    """
    room, my_role = await access_room(ctx, actor, room_id)
    _check_channel(room)
    if role not in ROLES:
        raise BadInput("role is owner, admin or member.", code="invalid_role")
    if my_role != "owner":
        raise Forbidden("Only the room's owner can change roles.", code="forbidden")
    if target_id == actor.id:
        raise BadInput("Hand ownership to someone else instead.", code="own_role")
    if await ctx.store.memberships.role_of(room_id, target_id) is None:
        raise NotFound("No such member.", code="member_not_found")
    await ctx.store.memberships.set_role(room_id, target_id, role)
    changes = [(target_id, role)]
    if role == "owner":
        await ctx.store.memberships.set_role(room_id, actor.id, "admin")
        changes.append((actor.id, "admin"))
    for user_id, new_role in changes:
        frame = frames.member_updated(room_id, user_id, new_role)
        await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frame))
    return role


async def remove_member(
    ctx: Context, actor: User, room_id: int, target_id: int, *, ban: bool, ip: str = ""
) -> None:
    """Remove (and with ``ban`` keep out) a member: owner or admin; admins can't remove
    the owner or other admins. A ban also works on someone not (or no longer) a member.
    """
    room, my_role = await access_room(ctx, actor, room_id)
    _check_channel(room)
    if my_role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can remove members.", code="forbidden")
    if target_id == actor.id:
        raise BadInput("Leave the room instead.", code="cannot_remove_self")
    target = await ctx.store.users.by_id(target_id)
    if target is None:
        raise NotFound("No such member.", code="member_not_found")
    their_role = await ctx.store.memberships.role_of(room_id, target_id)
    if their_role is None and not ban:
        raise NotFound("No such member.", code="member_not_found")
    if their_role in MANAGER_ROLES and my_role != "owner":
        raise Forbidden("Only the owner can remove an admin.", code="forbidden")
    if ban:
        await ctx.store.room_admin.ban(room_id, target_id, actor.id, ctx.clock())
        await audit.record(
            ctx, actor, "room.banned", audit.user_target(target), ip, {"room": room_id}
        )
    else:
        await ctx.store.memberships.remove_member(room_id, target_id)
    if their_role is not None:
        frame = frames.member_left(room_id, target)
        await ctx.bus.publish(
            Event(kind="leave", room_id=room_id, user_ids=[target_id], payload=frame)
        )


async def unban(ctx: Context, actor: User, room_id: int, target_id: int) -> None:
    _, my_role = await access_room(ctx, actor, room_id)
    if my_role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can lift bans.", code="forbidden")
    if not await ctx.store.room_admin.unban(room_id, target_id):
        raise NotFound("That user is not banned here.", code="ban_not_found")


async def bans(ctx: Context, actor: User, room_id: int) -> list[User]:
    _, my_role = await access_room(ctx, actor, room_id)
    if my_role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can see bans.", code="forbidden")
    ids = await ctx.store.room_admin.banned_ids(room_id)
    found = [await ctx.store.users.by_id(uid) for uid in ids]
    return [u for u in found if u is not None]


async def set_archived(ctx: Context, actor: User, room_id: int, archived: bool) -> Room:
    """Archive (read-only: sends refused with ``room_archived``) or reopen; owner only."""
    room, my_role = await access_room(ctx, actor, room_id)
    _check_channel(room)
    if my_role != "owner":
        raise Forbidden("Only the room's owner can archive it.", code="forbidden")
    await ctx.store.room_admin.set_archived(room_id, ctx.clock() if archived else None)
    updated = await ctx.store.rooms.get(room_id)
    assert updated is not None
    await _publish_room(ctx, updated)
    return updated
