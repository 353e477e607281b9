"""Retention: messages older than a room's retention period are deleted by a job.

Each room may set ``retention_days`` (its owner or admins, through PATCH
/api/rooms/{id}); rooms without one follow the server's default
(:func:`default_retention_days`), and with neither, messages are kept forever.

:func:`retention_forever` runs in every server process; a lease row (store
``take_lease``) lets only one of them work at a time, on SQLite and PostgreSQL alike.
Expired messages become tombstones exactly as deletes make (store/edits.py): their seq
stays, members get ``message_deleted`` live and see the tombstone on resume. Their
files go too, bytes included unless another upload shares them. The work is done
EXPIRE_BATCH messages per short transaction, so sends are never held up for long.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta

from parley.domain.context import Context
from parley.domain.lifecycle import announce_tombstones, finish_erasures
from parley.domain.server_settings import server_settings
from parley.errors import BadInput

log = logging.getLogger(__name__)

EXPIRE_BATCH = 500
LEASE_NAME = "retention"
# A pass that takes longer than this lets another process take the lease over.
LEASE_S = 300.0
MIN_DAYS = 1
MAX_DAYS = 36_500
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Which process holds the lease: random per process, so two processes never share it.
HOLDER = secrets.token_hex(8)


async def default_retention_days(ctx: Context) -> int | None:
    """The server's retention period for rooms without their own; None keeps forever.

    The admin console's setting, whose default is PARLEY_RETENTION_DAYS.
    """
    return (await server_settings(ctx)).retention_days


def validate_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_DAYS <= value <= MAX_DAYS:
        raise BadInput(
            f"retention_days must be a whole number of days from {MIN_DAYS} to {MAX_DAYS}.",
            code="invalid_retention",
        )
    return value


def _shift(now: str, days: float) -> str:
    moment = datetime.strptime(now, _FORMAT).replace(tzinfo=UTC) - timedelta(days=days)
    return moment.strftime(_FORMAT)


async def expire_once(ctx: Context) -> int:
    """Delete every expired message of every room (a batch at a time); how many.

    Returns 0 without doing anything when another process holds the lease.
    """
    now = ctx.clock()
    until = _shift(now, -LEASE_S / 86_400)
    if not await ctx.store.lifecycle.take_lease(LEASE_NAME, HOLDER, now, until):
        return 0
    total = 0
    for room_id, days in await ctx.store.lifecycle.rooms_to_expire(
        await default_retention_days(ctx)
    ):
        cutoff = _shift(now, days)
        while True:
            batch = await ctx.store.lifecycle.expire_batch(
                room_id, cutoff, ctx.clock(), EXPIRE_BATCH
            )
            if not batch.messages:
                break
            total += len(batch.messages)
            ctx.lifecycle.expired += len(batch.messages)
            await announce_tombstones(ctx, batch)
            await asyncio.sleep(0)
    await finish_erasures(ctx)
    return total


async def retention_forever(ctx: Context) -> None:
    """Run :func:`expire_once` every PARLEY_RETENTION_INTERVAL_S, until cancelled."""
    while True:
        try:
            expired = await expire_once(ctx)
            if expired:
                log.info("retention deleted %d messages", expired)
        except Exception:
            log.exception("the retention job failed; trying again later")
        await asyncio.sleep(ctx.settings.retention_interval_s)
