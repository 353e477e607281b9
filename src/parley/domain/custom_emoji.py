"""Custom emoji: the server's own pictures, used as ``:name:`` in text and reactions.

Who may add one is the ``custom_emoji`` server setting (admins by default; members when
an admin opens it up). The uploader and site admins may delete one. The image is
re-encoded as a small static PNG and served by Parley; ``:name:`` in a message stays
text in the message and the client draws the image for a name it knows (never user
HTML). Names are 2 to 32 of a-z 0-9 _ -, and none that a standard emoji uses already.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import emoji as emoji_data

from parley.domain import images
from parley.domain.context import Context
from parley.domain.files import sniff
from parley.domain.models import Account, StoredEmoji, User
from parley.domain.people import drop_unused_blobs
from parley.domain.ratelimit import spend
from parley.domain.server_settings import server_settings
from parley.errors import BadInput, Forbidden, NotFound, TooLarge, Unavailable, UnsupportedMediaType

NAME_RE = re.compile(r"[a-z0-9_-]{2,32}")
# A custom emoji's source image: small pictures; a photo is not an emoji.
SOURCE_MAX_BYTES = 512 * 1024
SOURCE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# However open the setting: a server's picker stays a picker.
MAX_CUSTOM_EMOJI = 2000


def _standard_names() -> frozenset[str]:
    names: set[str] = set()
    for data in emoji_data.EMOJI_DATA.values():
        for name in (data.get("en"), *data.get("alias", ())):
            if name:
                names.add(name.strip(":").lower())
    return frozenset(names)


STANDARD_NAMES = _standard_names()


def validate_name(value: object) -> str:
    """The name without colons, or BadInput ``invalid_emoji_name``."""
    name = value.strip().strip(":") if isinstance(value, str) else ""
    if NAME_RE.fullmatch(name) is None:
        raise BadInput("An emoji name is 2 to 32 of a-z, 0-9, _ and -.", code="invalid_emoji_name")
    if name in STANDARD_NAMES:
        raise BadInput(f":{name}: is a standard emoji already.", code="invalid_emoji_name")
    return name


def reaction_name(key: str) -> str | None:
    """The custom emoji a reaction key names (``:name:``), or None when it names none."""
    if len(key) > 4 and key.startswith(":") and key.endswith(":"):
        name = key[1:-1]
        if NAME_RE.fullmatch(name):
            return name
    return None


async def may_add(ctx: Context, account: Account) -> bool:
    if account.is_admin:
        return True
    return (await server_settings(ctx)).custom_emoji == "members"


async def add(ctx: Context, account: Account, name: object, data: bytes) -> StoredEmoji:
    """Add ``:name:`` with the image ``data``.

    Raises Forbidden (not allowed by the setting), BadInput (name), Conflict (taken),
    TooLarge, UnsupportedMediaType (not an image Pillow reads), RateLimited, Unavailable.
    """
    user = account.user
    if not await may_add(ctx, account):
        raise Forbidden("Only site admins may add emoji here.", code="emoji_admins_only")
    checked = validate_name(name)
    if len(data) > SOURCE_MAX_BYTES:
        raise TooLarge("An emoji image is at most 512 KB.", code="too_large")
    if sniff(data[:8192]) not in SOURCE_TYPES:
        raise UnsupportedMediaType(
            "An emoji is a PNG, JPEG, GIF or WebP image.", code="not_an_image"
        )
    await spend(ctx.limits.people, user.id, "You are adding emoji too fast.")
    if await ctx.store.custom_emoji.count() >= MAX_CUSTOM_EMOJI:
        raise BadInput(f"A server has at most {MAX_CUSTOM_EMOJI} emoji.", code="too_many_emoji")
    if ctx.blobs is None:
        raise Unavailable("File storage is not configured.")
    async with ctx.thumbnail_slots:
        try:
            made = await asyncio.to_thread(images.make_emoji, data)
        except images.ImageRefused as exc:
            raise UnsupportedMediaType(
                "That image could not be read.", code="not_an_image"
            ) from exc
    async with ctx.file_lock:
        saved = await ctx.blobs.save(_single(made.data))
        try:
            return await ctx.store.custom_emoji.insert(
                checked, saved.key, made.content_type, user.id, ctx.clock()
            )
        except Exception:
            await drop_unused_blobs(ctx, [saved.key])
            raise


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def listing(ctx: Context) -> list[StoredEmoji]:
    return await ctx.store.custom_emoji.all()


async def remove(ctx: Context, account: Account, name: str) -> None:
    """Delete ``:name:``: its uploader or a site admin. NotFound, Forbidden."""
    found = await ctx.store.custom_emoji.get(name) if NAME_RE.fullmatch(name) else None
    if found is None:
        raise NotFound("No such emoji.", code="emoji_not_found")
    if not account.is_admin and found.emoji.created_by != account.user.id:
        raise Forbidden("Only its uploader or a site admin may delete it.", code="not_yours")
    await spend(ctx.limits.people, account.user.id, "You are deleting emoji too fast.")
    async with ctx.file_lock:
        await ctx.store.custom_emoji.delete(name)
        await drop_unused_blobs(ctx, [found.blob_key])


async def image(ctx: Context, user: User | None, name: str) -> StoredEmoji:
    """The emoji to serve to a signed-in person; NotFound otherwise."""
    found = await ctx.store.custom_emoji.get(name) if user and NAME_RE.fullmatch(name) else None
    if found is None:
        raise NotFound("No such emoji.", code="emoji_not_found")
    return found


async def check_reaction(ctx: Context, key: str) -> None:
    """A ``:name:`` reaction must name a custom emoji that exists (BadInput otherwise)."""
    name = reaction_name(key)
    if name is not None and await ctx.store.custom_emoji.get(name) is None:
        raise BadInput(f"There is no :{name}: emoji.", code="invalid_emoji")
