"""The audit log: who did what, when, from which address.

One call, :func:`record`, from wherever something worth auditing happens: sign-ins and
their failures and lockouts, second-factor changes, session revocations, admin actions,
room bans, webhook and bot creation, exports, password resets. Recording never fails the
action it records (a broken write is logged and dropped) and costs one small insert.
Entries are kept PARLEY_AUDIT_DAYS (default 180; 0 forever), swept every hour.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from parley.domain.context import Context
from parley.domain.models import User
from parley.errors import BadInput

log = logging.getLogger(__name__)

CLEANUP_INTERVAL_S = 3600.0
PAGE_MAX = 500
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Every action written, for the console's filter and the docs (docs/admin.md).
ACTIONS = (
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.locked_out",
    "auth.password_changed",
    "auth.password_reset",
    "auth.password_reset_requested",
    "twofactor.enabled",
    "twofactor.disabled",
    "session.revoked",
    "admin.user_disabled",
    "admin.user_enabled",
    "admin.twofactor_reset",
    "admin.role_changed",
    "admin.password_reset_issued",
    "admin.room_archived",
    "admin.room_unarchived",
    "admin.room_owner_changed",
    "admin.settings_changed",
    "admin.user_deleted",
    "room.banned",
    "webhook.created",
    "bot.created",
    "export.room",
    "export.audit",
)


async def record(
    ctx: Context,
    actor: User | None,
    action: str,
    target: str = "",
    address: str | None = "",
    detail: dict[str, Any] | None = None,
    *,
    actor_name: str = "",
) -> None:
    """Write one entry; never raises (the action it records has happened already).

    ``actor`` is who acted (None when unknown: a failed sign-in names the login tried
    in ``actor_name``), ``target`` what it was done to ("user:12 ben", "room:4"),
    ``address`` the client's IP address.
    """
    try:
        await ctx.store.admin.add_audit(
            at=ctx.clock(),
            actor_id=actor.id if actor is not None else None,
            actor_name=(actor.username if actor is not None else actor_name)[:64],
            action=action[:48],
            target=target[:200],
            address=(address or "")[:64],
            detail=json.dumps(detail or {}, separators=(",", ":"))[:2000],
        )
    except Exception:
        log.exception("could not write the audit entry %s", action)


def user_target(user: User) -> str:
    return f"user:{user.id} {user.username}"


def _check_time(name: str, value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInput(
            f"{name} is a date or time like 2026-12-07 or 2026-12-07T10:00:00Z.",
            code="invalid_time",
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def entry_json(row: Any) -> dict[str, Any]:
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = {}
    return {
        "id": row.id,
        "at": row.at,
        "actor": {"id": row.actor_id, "username": row.actor_name},
        "action": row.action,
        "target": row.target,
        "address": row.address,
        "detail": detail,
    }


async def entries(
    ctx: Context,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries newest first, filtered (see AdminStore.audit); ``before`` pages on."""
    return [
        entry_json(row)
        for row in await ctx.store.admin.audit(
            actor=(actor or "").strip()[:64] or None,
            action=(action or "").strip()[:48] or None,
            since=_check_time("since", since),
            until=_check_time("until", until),
            before_id=before,
            limit=max(1, min(limit, PAGE_MAX)),
        )
    ]


async def export_lines(
    ctx: Context,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AsyncIterator[bytes]:
    """Every matching entry as JSON lines, newest first, read a page at a time."""
    before: int | None = None
    while True:
        page = await entries(
            ctx, actor=actor, action=action, since=since, until=until, before=before, limit=PAGE_MAX
        )
        for entry in page:
            yield (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        if len(page) < PAGE_MAX:
            return
        before = page[-1]["id"]


async def cleanup(ctx: Context) -> int:
    """Delete entries past PARLEY_AUDIT_DAYS and expired reset links; entries removed."""
    now = datetime.now(UTC)
    await ctx.store.admin.delete_resets_before((now - timedelta(days=1)).strftime(TIME_FORMAT))
    if ctx.settings.audit_days <= 0:
        return 0
    cutoff = (now - timedelta(days=ctx.settings.audit_days)).strftime(TIME_FORMAT)
    return await ctx.store.admin.delete_audit_before(cutoff)


async def cleanup_forever(ctx: Context, interval_s: float = CLEANUP_INTERVAL_S) -> None:
    """Run :func:`cleanup` now and then every ``interval_s``, until cancelled."""
    while True:
        try:
            removed = await cleanup(ctx)
            if removed:
                log.info("removed %d audit entries past PARLEY_AUDIT_DAYS", removed)
        except Exception:
            log.exception("cleaning up the audit log failed")
        await asyncio.sleep(interval_s)
