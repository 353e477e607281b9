"""People as others see them: a profile card, an avatar and a status.

Who may see a profile: the person and everyone who shares a room with them (a DM
counts). Anyone else gets "not found", as for a name that does not exist, so a
profile tells nothing to people who share nothing with its owner; the user search for
starting a DM (``GET /api/users``) shows names only, as before. Avatars follow the same
rule. A status is stored with its end; past its end it reads as none (computed when
read, so no job has to clear it), and clients hide it at ``expires_at`` on their own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from parley.bus.base import Event
from parley.domain import frames, images, text
from parley.domain.context import Context
from parley.domain.files import IMAGE_TYPES, access_file
from parley.domain.models import (
    AVATAR_URL,
    PersonStatus,
    PreviewPrefs,
    Profile,
    ProfileRow,
    User,
)
from parley.domain.ratelimit import spend
from parley.errors import BadInput, NotFound, TooLarge, Unavailable, UnsupportedMediaType

log = logging.getLogger(__name__)

STATUSES = ("active", "away", "dnd")
STATUS_TEXT_MAX = 100
PRONOUNS_MAX = 40
TITLE_MAX = 80
TIMEZONE_MAX = 64
# A status set to end later than this is refused: "until further notice" is no end.
STATUS_MAX_DURATION = timedelta(days=366)
# An avatar's source is read whole for Pillow: past this it is refused, not decoded.
AVATAR_SOURCE_MAX_BYTES = 20 * 1024 * 1024
AVATAR_DEFAULT_SIZE = 128
VERSION_BYTES = 9


def _not_found() -> NotFound:
    return NotFound("No such person.", code="user_not_found")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def current_status(status: PersonStatus | None, now: str) -> PersonStatus | None:
    """The status as it reads at ``now``: None once past its end."""
    if status is None or status.expires_at is None:
        return status
    return status if status.expires_at > now else None


def avatar_url(user_id: int, version: str | None) -> str | None:
    return AVATAR_URL.format(user_id=user_id, version=version) if version else None


def _card(row: ProfileRow, now: str) -> Profile:
    return Profile(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        pronouns=row.pronouns,
        title=row.title,
        timezone=row.timezone,
        avatar_url=avatar_url(row.id, row.avatar_version),
        status=current_status(row.status, now),
    )


async def _may_see(ctx: Context, viewer: User, person_id: int) -> bool:
    return viewer.id == person_id or await ctx.store.people.shares_room(viewer.id, person_id)


async def profile(ctx: Context, viewer: User, username: str) -> Profile:
    """The profile card of ``username``. NotFound alike for a missing, disabled or
    deleted person and for one who shares no room with ``viewer``."""
    if not isinstance(username, str) or text.USERNAME_RE.fullmatch(username) is None:
        raise _not_found()
    row = await ctx.store.people.profile_by_username(username)
    if row is None or not await _may_see(ctx, viewer, row.id):
        raise _not_found()
    return _card(row, ctx.clock())


async def own_profile(ctx: Context, user: User) -> Profile:
    row = await ctx.store.people.profile(user.id)
    if row is None:
        raise _not_found()
    return _card(row, ctx.clock())


def _timezone(value: object) -> str:
    if value == "" or value is None:
        return ""
    if not isinstance(value, str) or len(value) > TIMEZONE_MAX:
        raise BadInput("timezone is an IANA time zone name.", code="invalid_timezone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInput("timezone is an IANA time zone name.", code="invalid_timezone") from exc
    # ZoneInfo also opens paths such as "Europe/../UTC"; only the listed names count.
    if value not in available_timezones():
        raise BadInput("timezone is an IANA time zone name.", code="invalid_timezone")
    return value


async def update_profile(ctx: Context, user: User, changes: dict[str, Any]) -> Profile:
    """Change any of display_name, pronouns, title and timezone (each validated; an
    empty text clears pronouns, title or timezone). Raises BadInput, RateLimited."""
    values: dict[str, str] = {}
    for field, value in changes.items():
        if value is None:
            continue
        if field == "display_name":
            values[field] = text.single_line(
                value, field="display_name", code="invalid_display_name", max_len=64
            )
        elif field == "pronouns":
            values[field] = text.single_line(
                value, field="pronouns", code="invalid_pronouns", max_len=PRONOUNS_MAX, min_len=0
            )
        elif field == "title":
            values[field] = text.single_line(
                value, field="title", code="invalid_title", max_len=TITLE_MAX, min_len=0
            )
        elif field == "timezone":
            values[field] = _timezone(value)
    if not values:
        raise BadInput("Send display_name, pronouns, title or timezone.", code="nothing_to_change")
    await spend(ctx.limits.people, user.id, "You are changing your profile too fast.")
    await ctx.store.people.update_profile(user.id, values)
    return await own_profile(ctx, user)


def validate_status(
    status: object, status_text: object, expires_at: object, now: str
) -> PersonStatus | None:
    """The status to store (None: clear it), or BadInput."""
    if status is None:
        if status_text not in (None, "") or expires_at is not None:
            raise BadInput("A status text needs a status.", code="invalid_status")
        return None
    if status not in STATUSES:
        raise BadInput("status is active, away, dnd or null.", code="invalid_status")
    words = text.single_line(
        "" if status_text is None else status_text,
        field="text",
        code="invalid_status_text",
        max_len=STATUS_TEXT_MAX,
        min_len=0,
    )
    end: str | None = None
    if expires_at is not None:
        try:
            if not isinstance(expires_at, str):
                raise ValueError(expires_at)
            moment = _parse_time(expires_at)
            if moment.tzinfo is None:
                raise ValueError(expires_at)
        except ValueError as exc:
            raise BadInput(
                "expires_at is an RFC 3339 time with its offset.", code="invalid_expires_at"
            ) from exc
        start = _parse_time(now)
        if moment <= start or moment - start > STATUS_MAX_DURATION:
            raise BadInput(
                "expires_at is in the future, at most a year away.", code="invalid_expires_at"
            )
        end = _format_time(moment)
    return PersonStatus(str(status), words, end)


async def set_status(
    ctx: Context, user: User, status: object, status_text: object, expires_at: object
) -> PersonStatus | None:
    """Set (or clear, with status None) my status and tell everyone who shares a room
    with me, and my other connections, in one ``user_status`` frame encoded once.

    Raises BadInput, RateLimited.
    """
    found = validate_status(status, status_text, expires_at, ctx.clock())
    await spend(ctx.limits.people, user.id, "You are changing your status too fast.")
    await ctx.store.people.set_status(user.id, found)
    watchers = await ctx.store.memberships.co_member_ids(user.id)
    watchers.add(user.id)
    frame = frames.user_status(user.id, found)
    await ctx.bus.publish(Event(kind="users", user_ids=sorted(watchers), payload=frame))
    return found


async def _single(data: bytes) -> Any:
    yield data


async def set_avatar(ctx: Context, user: User, file_id: object) -> Profile:
    """Make an image I uploaded (``POST /api/files``) my avatar: cropped to its centred
    square, re-encoded at each size. The old avatar's bytes go unless something else
    uses them.

    Raises NotFound (not my upload), UnsupportedMediaType (not an image, or one Pillow
    refuses), TooLarge, RateLimited, Unavailable.
    """
    if not isinstance(file_id, str):
        raise BadInput("file_id is the id of an uploaded image.", code="invalid_file_id")
    record = await access_file(ctx, user, file_id)
    if record.uploader_id != user.id:
        # Only one's own upload: a file seen in a room is someone else's picture.
        raise NotFound("No such file.", code="file_not_found")
    if record.file.content_type not in IMAGE_TYPES:
        raise UnsupportedMediaType(
            "An avatar is a PNG, JPEG, GIF or WebP image.", code="not_an_image"
        )
    if record.file.size > AVATAR_SOURCE_MAX_BYTES:
        raise TooLarge("An avatar's image is at most 20 MB.", code="too_large")
    await spend(ctx.limits.people, user.id, "You are changing your avatar too fast.")
    blobs = ctx.blobs
    if blobs is None:
        raise Unavailable("File storage is not configured.")
    async with ctx.thumbnail_slots:
        source = b"".join([chunk async for chunk in blobs.open_range(record.blob_key)])
        try:
            made = await asyncio.to_thread(images.make_avatar, source)
        except images.ImageRefused as exc:
            raise UnsupportedMediaType(
                "That image could not be read.", code="not_an_image"
            ) from exc
    sizes: dict[int, tuple[str, str]] = {}
    for size, image in made.items():
        saved = await blobs.save(_single(image.data))
        sizes[size] = (saved.key, image.content_type)
    async with ctx.file_lock:
        old = await ctx.store.people.set_avatar(
            user.id, secrets.token_urlsafe(VERSION_BYTES), sizes
        )
        await drop_unused_blobs(ctx, old)
    return await own_profile(ctx, user)


async def clear_avatar(ctx: Context, user: User) -> None:
    """Remove my avatar (and its bytes unless something else uses them). RateLimited."""
    await spend(ctx.limits.people, user.id, "You are changing your avatar too fast.")
    async with ctx.file_lock:
        old = await ctx.store.people.clear_avatar(user.id)
        await drop_unused_blobs(ctx, old)


async def drop_unused_blobs(ctx: Context, keys: list[str]) -> None:
    """Delete each blob no file, avatar, emoji or preview uses. Call with file_lock held."""
    if ctx.blobs is None:
        return
    for key in keys:
        if not await ctx.store.people.media_key_in_use(key):
            await ctx.blobs.delete(key)


async def avatar(
    ctx: Context, viewer: User | None, user_id: int, version: str, size: int
) -> tuple[str, str]:
    """(blob key, type) of a person's avatar at ``size`` (the nearest stored size at
    least as big). NotFound alike for no avatar, an old version, a hidden person."""
    if viewer is None or not await _may_see(ctx, viewer, user_id):
        raise _not_found()
    chosen = next((s for s in images.AVATAR_SIZES if s >= size), images.AVATAR_SIZES[-1])
    found = await ctx.store.people.avatar(user_id, chosen)
    if found is None or found[0] != version:
        raise NotFound("No such avatar.", code="avatar_not_found")
    return found[1], found[2]


async def preview_prefs(ctx: Context, user: User) -> PreviewPrefs:
    return await ctx.store.people.preview_prefs(user.id)


async def set_preview_prefs(
    ctx: Context, user: User, show: object, generate: object
) -> PreviewPrefs:
    """Whether I see link previews, and whether my messages get them (booleans; a
    missing one stays as it was)."""
    for value in (show, generate):
        if value is not None and not isinstance(value, bool):
            raise BadInput("show and generate are true or false.", code="invalid_preferences")
    await spend(ctx.limits.people, user.id, "You are changing settings too fast.")
    current = await ctx.store.people.preview_prefs(user.id)
    prefs = PreviewPrefs(
        show=current.show if show is None else bool(show),
        generate=current.generate if generate is None else bool(generate),
    )
    await ctx.store.people.set_preview_prefs(user.id, prefs)
    return prefs
