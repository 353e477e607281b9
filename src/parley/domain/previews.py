"""Link previews: the first http(s) URL of a message gets a card, a moment after it is sent.

The message never waits: once stored and fanned out, a task looks the URL up in the cache
(``link_previews``, by the URL's SHA-256) or fetches the page through
:mod:`parley.domain.safe_fetch` (the SSRF rules live there), reads its OpenGraph,
Twitter card, oEmbed (discovered from the page's ``<link>``) and ``<title>``, fetches
the image the same safe way, re-encodes it with Pillow in a worker thread and keeps it
in the blob store (served by Parley, never hot-linked). The room then gets a ``preview``
frame; the message's ``preview`` field carries it from then on.

No preview when: the server's PARLEY_PREVIEWS is off, the room's switch is off (its
owner and admins), the author switched previews off for their messages, or the
author's preview budget (PREVIEWS_BURST, then PREVIEWS_PER_S; a cached URL is free)
is spent. A person may also hide previews for themselves; that is the client's to
honour, from ``GET /api/me/previews``.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from parley.bus.base import Event
from parley.domain import frames, images, safe_fetch
from parley.domain.context import Context
from parley.domain.models import LinkPreview, Message, User
from parley.domain.people import drop_unused_blobs
from parley.domain.ratelimit import spend
from parley.domain.rooms import access_room
from parley.errors import BadInput, Forbidden, NotFound

log = logging.getLogger(__name__)

PAGE_MAX_BYTES = 512 * 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
OEMBED_MAX_BYTES = 64 * 1024
PAGE_TYPES = frozenset({"text/html"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
OEMBED_TYPES = frozenset({"application/json", "application/json+oembed", "text/javascript"})
CACHE_OK = timedelta(hours=24)
CACHE_FAILED = timedelta(minutes=10)
TITLE_MAX = 300
DESCRIPTION_MAX = 600
SITE_NAME_MAX = 120
# A URL in a message: up to whitespace or characters that end one in prose.
URL_RE = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""
ROLES = ("owner", "admin")
CLEANUP_INTERVAL_S = 3600.0
CLEANUP_BATCH = 500


def first_url(body: str) -> str | None:
    """The first http(s) URL in ``body`` (trailing punctuation dropped), or None."""
    if "http" not in body:  # nearly every message: no regex at all
        return None
    found = URL_RE.search(body)
    if found is None:
        return None
    url = found.group(0)
    # A closing bracket belongs to the URL when it opened inside it (Wikipedia's "(x)").
    while url and url[-1] in TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    if len(url) > safe_fetch.URL_MAX or not urlsplit(url).hostname:
        return None
    return url


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class _MetaParser(HTMLParser):
    """Reads <meta>, <link rel=alternate oembed> and <title> from the page's <head>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.oembed: str | None = None
        self.title = ""
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and key not in self.meta and values.get("content"):
                self.meta[key] = values["content"]
        elif tag == "link":
            rel = values.get("rel", "").lower().split()
            kind = values.get("type", "").lower()
            if "alternate" in rel and "json+oembed" in kind and self.oembed is None:
                self.oembed = values.get("href") or None
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title) < TITLE_MAX * 2:
            self.title += data


def _clean(value: str | None, limit: int) -> str:
    """One line of plain text: entities decoded, whitespace folded, control chars out."""
    if not value:
        return ""
    text = html.unescape(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text[: limit - 1] + "…" if len(text) > limit else text


def _decode(body: bytes, charset: str | None) -> str:
    for encoding in (charset, "utf-8"):
        if encoding:
            try:
                return body.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("utf-8", errors="replace")


def parse_page(body: bytes, charset: str | None) -> tuple[dict[str, str], str | None, str]:
    """(meta tags, oEmbed href, <title>) of an HTML page."""
    parser = _MetaParser()
    text = _decode(body, charset)
    # Fed in pieces so that the head of a big page is read without parsing the rest.
    for start in range(0, len(text), 16_384):
        parser.feed(text[start : start + 16_384])
        if parser.done:
            break
    return parser.meta, parser.oembed, parser.title


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _later(now: str, delta: timedelta) -> str:
    moment = datetime.strptime(now, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) + delta
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _fetch(
    ctx: Context, url: str, kinds: frozenset[str], max_bytes: int
) -> safe_fetch.Fetched:
    allow = safe_fetch.allow_list(ctx.settings.preview_allow)
    return await safe_fetch.fetch(url, kinds=kinds, max_bytes=max_bytes, allow=allow)


async def _oembed(ctx: Context, href: str, page_url: str) -> dict[str, str]:
    try:
        found = await _fetch(
            ctx, urljoin(page_url, href), kinds=OEMBED_TYPES, max_bytes=OEMBED_MAX_BYTES
        )
        data = json.loads(_decode(found.body, found.charset))
    except (safe_fetch.FetchRefused, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str | int)}


async def _image(ctx: Context, url: str) -> tuple[str, str] | None:
    """(blob key, type) of the page's image, fetched safely and re-encoded; None."""
    if ctx.blobs is None:
        return None
    try:
        found = await _fetch(ctx, url, kinds=IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES)
        async with ctx.thumbnail_slots:
            made = await asyncio.to_thread(images.make_preview_image, found.body)
    except (safe_fetch.FetchRefused, images.ImageRefused) as exc:
        log.info("preview image %s refused: %s", url[:100], exc)
        return None
    saved = await ctx.blobs.save(_single(made.data))
    return saved.key, made.content_type


async def build(ctx: Context, url: str) -> LinkPreview:
    """Fetch and read ``url`` now (no cache); a failed preview (ok False) on refusal."""
    now = ctx.clock()
    key = url_hash(url)
    failed = LinkPreview(key, url, False, "", "", "", None, None, now, _later(now, CACHE_FAILED))
    try:
        page = await _fetch(ctx, url, kinds=PAGE_TYPES, max_bytes=PAGE_MAX_BYTES)
    except safe_fetch.FetchRefused as exc:
        log.info("no preview for %s: %s", url[:100], exc)
        return failed
    meta, oembed_href, title = parse_page(page.body, page.charset)
    oembed = await _oembed(ctx, oembed_href, page.url) if oembed_href else {}

    def first(*names: str) -> str:
        return next((meta[n] for n in names if meta.get(n)), "")

    found_title = _clean(
        first("og:title", "twitter:title") or oembed.get("title") or title, TITLE_MAX
    )
    description = _clean(
        first("og:description", "twitter:description", "description"), DESCRIPTION_MAX
    )
    site_name = _clean(
        first("og:site_name", "application-name") or oembed.get("provider_name"), SITE_NAME_MAX
    )
    image_src = first("og:image:secure_url", "og:image", "twitter:image", "twitter:image:src")
    image_src = image_src or oembed.get("thumbnail_url", "")
    if not (found_title or description):
        return failed
    image = await _image(ctx, urljoin(page.url, image_src)) if image_src else None
    return LinkPreview(
        url_hash=key,
        url=url,
        ok=True,
        title=found_title,
        description=description,
        site_name=site_name,
        image_key=image[0] if image else None,
        image_type=image[1] if image else None,
        fetched_at=now,
        expires_at=_later(now, CACHE_OK),
    )


def after_post(ctx: Context, message: Message) -> None:
    """Called for each new message once it is stored and sent: start its preview."""
    if not ctx.settings.previews or message.deleted:
        return
    url = first_url(message.body)
    if url is None:
        return
    task = asyncio.ensure_future(_preview(ctx, message, url))
    ctx.preview_tasks.add(task)
    task.add_done_callback(ctx.preview_tasks.discard)


async def _preview(ctx: Context, message: Message, url: str) -> None:
    try:
        await make(ctx, message, url)
    except Exception:
        log.exception("link preview for message %s failed", message.id)


async def make(ctx: Context, message: Message, url: str) -> LinkPreview | None:
    """Give ``message`` the preview of ``url`` (cached or fetched) and tell its room.

    None when previews are off for the room or the author, the author's budget is
    spent, or the page gave nothing to show.
    """
    store = ctx.store
    if not await store.previews.room_enabled(message.room_id):
        return None
    if not (await store.people.preview_prefs(message.author.id)).generate:
        return None
    key = url_hash(url)
    found = await store.previews.cached(key)
    if found is None or found.expires_at <= ctx.clock():
        if await ctx.limits.previews.take(str(message.author.id)):
            return None
        async with ctx.preview_slots:
            found = await build(ctx, url)
            async with ctx.file_lock:
                replaced = await store.previews.put(found)
                if replaced:
                    await drop_unused_blobs(ctx, [replaced])
    if not found.ok:
        return None
    if not await store.previews.attach(message.id, message.room_id, key):
        return None
    frame = frames.preview(message.room_id, message.id, found.as_json())
    await ctx.bus.publish(Event(kind="room", room_id=message.room_id, payload=frame))
    return found


async def remove_stale(ctx: Context) -> int:
    """Forget expired cache entries no message shows, and their images' bytes unless
    something else uses them. Returns how many images were looked at."""
    looked = 0
    while True:
        async with ctx.file_lock:
            keys = await ctx.store.previews.remove_stale(ctx.clock(), CLEANUP_BATCH)
            await drop_unused_blobs(ctx, keys)
        looked += len(keys)
        if len(keys) < CLEANUP_BATCH:
            return looked


async def cleanup_forever(ctx: Context, interval_s: float = CLEANUP_INTERVAL_S) -> None:
    """Run :func:`remove_stale` now and then every ``interval_s``, until cancelled."""
    while True:
        try:
            await remove_stale(ctx)
        except Exception:
            log.exception("cleaning up link previews failed")
        await asyncio.sleep(interval_s)


async def image(ctx: Context, user: User | None, key: str) -> tuple[str, str]:
    """(blob key, type) of a preview image for a member of a room that shows it."""
    if user is None or not re.fullmatch(r"[0-9a-f]{64}", key):
        raise NotFound("No such preview.", code="preview_not_found")
    found = await ctx.store.previews.image_for(key, user.id)
    if found is None:
        raise NotFound("No such preview.", code="preview_not_found")
    return found


async def room_setting(ctx: Context, user: User, room_id: int) -> bool:
    await access_room(ctx, user, room_id)
    return await ctx.store.previews.room_enabled(room_id)


async def set_room_setting(ctx: Context, user: User, room_id: int, enabled: object) -> bool:
    """Switch a room's link previews on or off: its owner and admins. NotFound for
    non-members, Forbidden for other members, BadInput."""
    _, role = await access_room(ctx, user, room_id)
    if not isinstance(enabled, bool):
        raise BadInput("enabled is true or false.", code="invalid_enabled")
    if role not in ROLES:
        raise Forbidden("Only the room's owner and admins may do that.", code="not_room_admin")
    await spend(ctx.limits.people, user.id, "You are changing settings too fast.")
    await ctx.store.previews.set_room_enabled(room_id, enabled)
    return enabled
