"""Deleting accounts: by the person (DELETE /api/me) or a site admin.

What goes: the name (free for anyone at once), the password, two-factor, passkeys,
OpenID links, every session (sockets closed with 4401), memberships, reactions, bans,
invites made, the bots the person owned and the webhooks they made. Rooms they owned
go to the room's longest-standing admin, else its longest-standing member; a room left
empty is archived. The account's row stays as the author of the messages kept, which
show ``{"username": "~deleted-<id>", "display_name": "Deleted user"}``.

With ``messages: "erase"`` every message becomes a tombstone exactly as a delete makes
(store/edits.py): the seq stays, members get ``message_deleted``. That is done a batch
at a time (ERASE_BATCH messages per short transaction), so a million messages never
hold the database long; an erasure cut short by a restart is finished by the
background job (:func:`finish_erasures`). Files of erased messages are removed, their
bytes too unless another upload shares them.
"""

from __future__ import annotations

import asyncio
import logging

from parley.bus.base import Event
from parley.domain import audit, frames, login_codes
from parley.domain.accounts import (
    check_sign_in_allowed,
    confirm_password,
    confirm_recent_sign_in,
    count_failed_sign_in,
    has_password,
)
from parley.domain.admin import require_admin
from parley.domain.context import Context
from parley.domain.files import remove_detached
from parley.domain.models import DELETED_NAME, Account, Tombstones, User, deleted_username
from parley.domain.people import drop_unused_blobs
from parley.errors import BadInput, Conflict, Forbidden, NotFound, Unauthorized

log = logging.getLogger(__name__)

ERASE_BATCH = 500
# Batches erased before DELETE answers (10,000 messages); the rest right after.
ERASE_INLINE_BATCHES = 20


def erasure_allowed(ctx: Context) -> bool:
    """Whether people deleting their account may erase their messages.

    The one place the setting is read (PARLEY_ALLOW_MESSAGE_ERASURE for now).
    """
    return ctx.settings.allow_message_erasure


def _check_choice(ctx: Context, messages: str, *, by_admin: bool) -> bool:
    """Whether to erase; Forbidden when the server keeps messages of people leaving."""
    if messages not in ("keep", "erase"):
        raise BadInput('messages must be "keep" or "erase".', code="invalid_messages")
    erase = messages == "erase"
    if erase and not by_admin and not erasure_allowed(ctx):
        raise Forbidden(
            "This server keeps the messages of deleted accounts.", code="erasure_not_allowed"
        )
    return erase


async def _check_not_last_admin(ctx: Context, target: Account) -> None:
    if (
        target.is_admin
        and not target.disabled
        and await ctx.store.lifecycle.active_admin_count() <= 1
    ):
        raise Conflict("This is the last site admin: make another admin first.", code="last_admin")


async def delete_me(
    ctx: Context,
    account: Account,
    session_id: str,
    *,
    password: str | None,
    otp: str | None,
    messages: str,
    ip: str | None,
) -> None:
    """Delete the signed-in person's own account.

    Proof: the password (an account without one: a sign-in within the last minutes),
    and a current or recovery code when two-factor is on. Wrong answers count as
    failed sign-ins. Raises Unauthorized (``invalid_credentials``, ``password_required``,
    ``otp_required``, ``otp_invalid``), Forbidden (``erasure_not_allowed``), Conflict
    (``last_admin``), RateLimited.
    """
    erase = _check_choice(ctx, messages, by_admin=False)
    await check_sign_in_allowed(ctx, account.user.username, ip)
    if has_password(account):
        await confirm_password(ctx, account, password or "")
    else:
        await confirm_recent_sign_in(ctx, account, session_id, None)
    if account.totp_enabled:
        if not otp:
            raise Unauthorized("Enter a two-factor code.", code="otp_required")
        login_codes.check_code_form(otp)
        check = await login_codes.check_login_code(ctx, account.user.id, otp)
        if check != "ok":
            await count_failed_sign_in(ctx, account.user.username, ip)
            raise login_codes.code_refused(check)
    await _check_not_last_admin(ctx, account)
    await _delete(ctx, account.user, erase)


async def delete_user(
    ctx: Context, admin: Account, user_id: int, *, messages: str, ip: str | None = ""
) -> None:
    """A site admin deletes an account (not their own here: DELETE /api/me).

    Raises Forbidden (not an admin), NotFound (unknown or already deleted), BadInput
    (``cannot_delete_self``), Conflict (``last_admin``).
    """
    require_admin(admin)
    erase = _check_choice(ctx, messages, by_admin=True)
    target = await ctx.store.users.account_by_id(user_id)
    if target is None or await ctx.store.lifecycle.is_deleted(user_id):
        raise NotFound("No such user.", code="user_not_found")
    if target.user.id == admin.user.id:
        raise BadInput("Delete your own account from your settings.", code="cannot_delete_self")
    await _check_not_last_admin(ctx, target)
    await _delete(ctx, target.user, erase)
    await audit.record(
        ctx,
        admin.user,
        "admin.user_deleted",
        f"user:{target.user.id} {target.user.username}",
        ip,
        {"messages": messages},
    )


async def _delete(ctx: Context, user: User, erase: bool) -> None:
    deleted = await ctx.store.lifecycle.delete_account(user.id, ctx.clock(), erase=erase)
    log.info("account %s deleted (messages %s)", user.id, "erased" if erase else "kept")
    # Sockets first: nothing the account still has open may act after this.
    await ctx.bus.publish(Event(kind="close_users", user_ids=deleted.user_ids))
    if deleted.session_ids:
        await ctx.bus.publish(Event(kind="close_sessions", session_ids=deleted.session_ids))
    if deleted.avatar_keys:
        async with ctx.file_lock:
            await drop_unused_blobs(ctx, deleted.avatar_keys)
    gone = User(user.id, deleted_username(user.id), DELETED_NAME, user.created_at)
    for room_id in sorted(set(deleted.left)):
        frame = frames.member_left(room_id, gone)
        await ctx.bus.publish(
            Event(kind="leave", room_id=room_id, user_ids=deleted.user_ids, payload=frame)
        )
    for room_id in deleted.archived:
        room = await ctx.store.rooms.get(room_id)
        if room is not None:
            frame = frames.room_updated(room)
            await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frame))
    for room_id, heir in deleted.new_owners:
        frame = frames.member_updated(room_id, heir, "owner")
        await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frame))
    if not erase:
        return
    # Most accounts are erased before the answer; a prolific one goes on after it.
    if await erase_messages(ctx, user.id, max_batches=ERASE_INLINE_BATCHES) is None:
        task = asyncio.create_task(erase_messages(ctx, user.id), name=f"erase-{user.id}")
        ctx.lifecycle.erasing.add(task)
        task.add_done_callback(ctx.lifecycle.erasing.discard)


async def announce_tombstones(ctx: Context, batch: Tombstones) -> None:
    """Tell each room's members of the tombstones, as a delete does; remove the files."""
    for gone in batch.messages:
        frame = frames.message_deleted(gone.room_id, gone.message_id, gone.seq)
        await ctx.bus.publish(Event(kind="room", room_id=gone.room_id, payload=frame))
    if batch.file_ids and ctx.blobs is not None:
        ctx.lifecycle.files_removed += await remove_detached(ctx, batch.file_ids)


async def erase_messages(ctx: Context, author_id: int, max_batches: int = 0) -> int | None:
    """Tombstone every message of a deleted account, ERASE_BATCH at a time, yielding
    between batches so that sends go on meanwhile; the number tombstoned, or None when
    ``max_batches`` (if not 0) were done and messages are left."""
    total = 0
    done = 0
    while True:
        if max_batches and done == max_batches:
            return None
        done += 1
        batch = await ctx.store.lifecycle.erase_batch(author_id, ctx.clock(), ERASE_BATCH)
        if not batch.messages:
            return total
        total += len(batch.messages)
        ctx.lifecycle.erased += len(batch.messages)
        await announce_tombstones(ctx, batch)
        await asyncio.sleep(0)


async def finish_erasures(ctx: Context) -> int:
    """Finish erasures a restart cut short (run by the background job)."""
    total = 0
    for author_id in await ctx.store.lifecycle.erase_pending():
        total += await erase_messages(ctx, author_id) or 0
    return total
