"""Who wants to hear about what: per-room levels, do not disturb, hide content, digests.

A room's level is "all" (every message), "mentions" (messages naming me or @room) or
"nothing"; a member who set none has the default: "all" in direct and group
conversations, "mentions" elsewhere. Muting a room (domain/mutes.py) counts as
"nothing" for push and email, whatever the level. Do not disturb holds everything
back: until a moment (``dnd_until``), and every day from ``dnd_start`` to ``dnd_end``
(minutes after midnight in ``dnd_timezone``; the span may cross midnight).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.bus.base import Event
from parley.domain import frames
from parley.domain.context import Context
from parley.domain.models import NotificationPrefs, User, default_notify_level
from parley.domain.rooms import access_room
from parley.errors import BadInput, RateLimited

LEVELS = ("all", "mentions", "nothing")
MINUTES_PER_DAY = 24 * 60
# How far ahead "do not disturb until" may be set.
MAX_DND_DAYS = 366
TIMEZONE_MAX = 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def effective_level(room_kind: str, stored: str | None, muted: bool) -> str:
    if muted:
        return "nothing"
    return stored if stored in LEVELS else default_notify_level(room_kind)


def wants(level: str, *, mentioned: bool) -> bool:
    """Whether a member at ``level`` hears of a message (``mentioned``: by name or @room)."""
    return level == "all" or (level == "mentions" and mentioned)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def quiet(prefs: NotificationPrefs, now: datetime) -> bool:
    """Whether do not disturb holds at ``now`` (a UTC datetime)."""
    if prefs.dnd_until is not None and prefs.dnd_until > format_time(now):
        return True
    start, end = prefs.dnd_start, prefs.dnd_end
    if start is None or end is None or start == end:
        return False
    local = now
    if prefs.dnd_timezone != "UTC":  # UTC needs no tz database (minimal images lack one)
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):  # stored, so was valid
            local = now.astimezone(ZoneInfo(prefs.dnd_timezone))
    minute = local.hour * 60 + local.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end  # across midnight


def prefs_json(prefs: NotificationPrefs, *, now: datetime | None = None) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    dnd_until = (
        prefs.dnd_until if prefs.dnd_until and prefs.dnd_until > format_time(moment) else None
    )
    return {
        "hide_content": prefs.hide_content,
        "email_digest": prefs.email_digest,
        "dnd_until": dnd_until,
        "dnd_start": prefs.dnd_start,
        "dnd_end": prefs.dnd_end,
        "dnd_timezone": prefs.dnd_timezone,
        "dnd_now": quiet(prefs, moment),
    }


async def _budget(ctx: Context, user: User) -> None:
    wait = await ctx.limits.notify_changes.take(str(user.id))
    if wait > 0:
        raise RateLimited(wait, "Too many changes; try again in a moment.")


async def get_prefs(ctx: Context, user: User) -> dict[str, Any]:
    return prefs_json(await ctx.store.notifications.prefs(user.id))


def _minute(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MINUTES_PER_DAY:
        raise BadInput(
            f"{name} is minutes after midnight, 0 to {MINUTES_PER_DAY - 1}, or null.",
            code="invalid_dnd",
        )
    return value


def _until(value: object, now: datetime) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise BadInput("dnd_until is an RFC 3339 time or null.", code="invalid_dnd")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput("dnd_until is an RFC 3339 time or null.", code="invalid_dnd") from None
    if moment.tzinfo is None:
        raise BadInput("dnd_until needs a time zone (Z or an offset).", code="invalid_dnd")
    if moment > now + timedelta(days=MAX_DND_DAYS):
        raise BadInput(f"dnd_until is at most {MAX_DND_DAYS} days ahead.", code="invalid_dnd")
    return format_time(moment)


def _timezone(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= TIMEZONE_MAX:
        raise BadInput("dnd_timezone is an IANA time zone name.", code="invalid_timezone")
    if value == "UTC":
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput("Unknown time zone.", code="invalid_timezone") from None
    return value


async def put_prefs(ctx: Context, user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the settings named in ``changes`` (the others stay); the new settings.

    BadInput for a value out of its range, RateLimited past the person's budget.
    """
    now = datetime.now(UTC)
    values: dict[str, Any] = {}
    for name in ("hide_content", "email_digest"):
        if name in changes:
            if not isinstance(changes[name], bool):
                raise BadInput(f"{name} is true or false.", code="invalid_notifications")
            values[name] = changes[name]
    if "dnd_until" in changes:
        values["dnd_until"] = _until(changes["dnd_until"], now)
    for name in ("dnd_start", "dnd_end"):
        if name in changes:
            values[name] = _minute(name, changes[name])
    if "dnd_timezone" in changes:
        values["dnd_timezone"] = _timezone(changes["dnd_timezone"])
    await _budget(ctx, user)
    if values:
        await ctx.store.notifications.put_prefs(user.id, values)
    return await get_prefs(ctx, user)


def validate_level(level: object) -> str:
    if level not in LEVELS:
        raise BadInput('level is "all", "mentions" or "nothing".', code="invalid_level")
    assert isinstance(level, str)
    return level


async def set_level(ctx: Context, user: User, room_id: int, level: object) -> str:
    """Set the member's level in the room; their tabs get a ``notify_level`` frame.

    NotFound for a room they are not in, BadInput, RateLimited.
    """
    chosen = validate_level(level)
    await access_room(ctx, user, room_id)
    await _budget(ctx, user)
    await ctx.store.notifications.set_level(room_id, user.id, chosen)
    frame = frames.notify_level(room_id, chosen)
    await ctx.bus.publish(Event(kind="users", user_ids=[user.id], payload=frame))
    return chosen
