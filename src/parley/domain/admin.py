"""Site administration: people, rooms and server settings, for site admins only.

A site admin is made with ``parley user create --admin`` (or promoted by another admin).
Everyone else is told the route does not exist for them (403), without learning whether
the target exists. Every change is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from parley.bus.base import Event
from parley.domain import audit, frames, recovery, server_settings
from parley.domain.context import Context
from parley.domain.models import Account, PersonRow, RoomRow, User
from parley.domain.ratelimit import spend
from parley.domain.rooms import announce_join
from parley.errors import BadInput, Conflict, Forbidden, NotFound

PAGE_MAX = 200


def require_admin(account: Account) -> None:
    if not account.is_admin or account.disabled:
        raise Forbidden("Only a site admin may do that.", code="admin_only")


async def _admin_write(ctx: Context, account: Account) -> None:
    """An admin's change: checked, and spent from their admin budget."""
    require_admin(account)
    await spend(ctx.limits.admin_actions, account.user.id, "Too many admin changes; slow down.")


async def _target(ctx: Context, user_id: int) -> Account:
    target = await ctx.store.users.account_by_id(user_id)
    if target is None or target.is_bot:
        raise NotFound("No such user.", code="user_not_found")
    return target


async def set_disabled(
    ctx: Context, admin: Account, user_id: int, disabled: bool, *, ip: str = ""
) -> User:
    """Disable (or enable again) an account.

    Disabling ends every session of the account at once, live sockets included: its
    tokens are deleted, so enabling it again means signing in again. The same goes for
    the tokens of every bot the person owns (a disabled person's bots must not keep
    acting for them); their sockets close with 4401 too.
    Raises Forbidden (not an admin), NotFound, BadInput (an admin disabling themself).
    """
    await _admin_write(ctx, admin)
    target = await ctx.store.users.account_by_id(user_id)
    if target is None:
        raise NotFound("No such user.", code="user_not_found")
    if disabled and target.user.id == admin.user.id:
        raise BadInput("You cannot disable your own account.", code="cannot_disable_self")
    await ctx.store.users.set_disabled(user_id, disabled)
    if disabled:
        user_ids = [user_id, *await ctx.store.bots.all_bot_ids_of(user_id)]
        session_ids = await ctx.store.sessions.delete_all_of(user_ids)
        await ctx.bus.publish(Event(kind="close_users", user_ids=user_ids))
        if session_ids:
            await ctx.bus.publish(Event(kind="close_sessions", session_ids=session_ids))
    action = "admin.user_disabled" if disabled else "admin.user_enabled"
    await audit.record(ctx, admin.user, action, audit.user_target(target.user), ip)
    return target.user


async def people(
    ctx: Context, admin: Account, q: str, *, limit: int = 50, offset: int = 0
) -> list[PersonRow]:
    """People whose username or display name contains ``q`` (all when empty)."""
    require_admin(admin)
    return await ctx.store.admin.people(
        (q or "").strip()[:64], max(1, min(limit, PAGE_MAX)), max(0, offset)
    )


async def reset_two_factor(ctx: Context, admin: Account, user_id: int, *, ip: str = "") -> User:
    """Turn a person's two-factor sign-in off (a lost phone): the authenticator secret
    and recovery codes are forgotten; their password alone signs them in until they
    enrol again. Their passkeys stay (they are devices they still hold, or remove)."""
    await _admin_write(ctx, admin)
    target = await _target(ctx, user_id)
    await ctx.store.twofactor.disable(user_id)
    await audit.record(ctx, admin.user, "admin.twofactor_reset", audit.user_target(target.user), ip)
    return target.user


async def set_site_admin(
    ctx: Context, admin: Account, user_id: int, is_admin: bool, *, ip: str = ""
) -> User:
    """Promote a person to site admin, or demote one. Conflict ``last_admin`` when it
    would leave no active site admin."""
    await _admin_write(ctx, admin)
    target = await _target(ctx, user_id)
    demoting = target.is_admin and not is_admin and not target.disabled
    if demoting and await ctx.store.admin.active_admin_count() <= 1:
        raise Conflict(
            "This is the last site admin: promote someone else first.", code="last_admin"
        )
    if target.is_admin != is_admin:
        await ctx.store.users.set_admin(user_id, is_admin)
        await audit.record(
            ctx,
            admin.user,
            "admin.role_changed",
            audit.user_target(target.user),
            ip,
            {"is_admin": is_admin},
        )
    return target.user


async def issue_password_reset(
    ctx: Context, admin: Account, user_id: int, base_url: str, *, ip: str = ""
) -> recovery.ResetLink:
    """A one-time link (24 hours) that lets the person choose a new password; shown once."""
    await _admin_write(ctx, admin)
    target = await _target(ctx, user_id)
    link = await recovery.issue_link(ctx, target.user, base_url, by=admin.user)
    await audit.record(
        ctx, admin.user, "admin.password_reset_issued", audit.user_target(target.user), ip
    )
    return link


async def rooms(
    ctx: Context, admin: Account, q: str, *, limit: int = 50, offset: int = 0
) -> list[RoomRow]:
    """Channels with their size, activity and owner, most recently active first."""
    require_admin(admin)
    return await ctx.store.admin.rooms(
        (q or "").strip()[:80], max(1, min(limit, PAGE_MAX)), max(0, offset)
    )


async def _channel(ctx: Context, room_id: int) -> None:
    room = await ctx.store.rooms.get(room_id)
    if room is None or room.kind != "channel":
        raise NotFound("No such room.", code="room_not_found")


async def set_room_archived(
    ctx: Context, admin: Account, room_id: int, archived: bool, *, ip: str = ""
) -> RoomRow:
    """Archive a channel (read-only) or reopen it, whoever owns it; members get
    ``room_updated``."""
    await _admin_write(ctx, admin)
    await _channel(ctx, room_id)
    await ctx.store.room_admin.set_archived(room_id, ctx.clock() if archived else None)
    room = await ctx.store.rooms.get(room_id)
    assert room is not None
    await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frames.room_updated(room)))
    action = "admin.room_archived" if archived else "admin.room_unarchived"
    await audit.record(ctx, admin.user, action, f"room:{room_id} {room.name}", ip)
    return await _room_row(ctx, room_id)


async def change_room_owner(
    ctx: Context, admin: Account, room_id: int, user_id: int, *, ip: str = ""
) -> RoomRow:
    """Make a person the owner of a channel (joining it if needed); the old owner
    becomes a room admin. Members get ``member_updated`` (and ``member_joined``)."""
    await _admin_write(ctx, admin)
    await _channel(ctx, room_id)
    target = await _target(ctx, user_id)
    if target.disabled:
        raise BadInput("A disabled account cannot own a room.", code="user_disabled")
    was_member = await ctx.store.memberships.role_of(room_id, user_id) is not None
    changes = await ctx.store.admin.set_owner(room_id, user_id, ctx.clock())
    if not was_member:
        await announce_join(ctx, room_id, target.user)
    for changed_id, role in changes:
        frame = frames.member_updated(room_id, changed_id, role)
        await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frame))
    await audit.record(
        ctx,
        admin.user,
        "admin.room_owner_changed",
        f"room:{room_id}",
        ip,
        {"owner": {"id": target.user.id, "username": target.user.username}},
    )
    return await _room_row(ctx, room_id)


async def _room_row(ctx: Context, room_id: int) -> RoomRow:
    room = await ctx.store.rooms.get(room_id)
    assert room is not None
    for row in await ctx.store.admin.rooms(room.name, PAGE_MAX, 0):
        if row.id == room_id:
            return row
    raise NotFound("No such room.", code="room_not_found")


async def settings(ctx: Context, admin: Account) -> server_settings.ServerSettings:
    require_admin(admin)
    return await server_settings.server_settings(ctx)


async def change_settings(
    ctx: Context, admin: Account, changes: dict[str, Any], *, ip: str = ""
) -> server_settings.ServerSettings:
    await _admin_write(ctx, admin)
    found = await server_settings.change(ctx, changes)
    shown = server_settings.as_json(found)
    await audit.record(
        ctx,
        admin.user,
        "admin.settings_changed",
        "settings",
        ip,
        {name: shown[name] for name in changes if name in shown},
    )
    return found


async def audit_entries(ctx: Context, admin: Account, **filters: Any) -> list[dict[str, Any]]:
    require_admin(admin)
    return await audit.entries(ctx, **filters)
