"""Sending Web Push messages: who gets one for a new message, and the sending itself.

The process that stored a message (it handled the send, over WebSocket or HTTP) is the
one that pushes it: :func:`parley.domain.messaging` offers each new message here once,
after commit, so with several processes exactly one pushes each message, and no
process has to agree with another about it. The offer costs a set lookup and a queue
append: socket delivery never waits for any of this.

Then, off the hot path: a decider reads the room's members who have subscriptions,
keeps those whose level wants the message (domain/notify_prefs.py), who are not
attentive anywhere (domain/attention.py), and not in do not disturb; each of their
subscriptions gets one delivery, sent by a few workers: encrypted for the browser
(RFC 8291, aes128gcm, http_ece), signed for the push service (RFC 8292 VAPID,
py_vapid), POSTed with httpx. 429, 5xx and network failures are retried with growing
delays (RETRY_DELAYS_S, or the service's Retry-After); 404 and 410 mean the browser
unsubscribed, and the subscription is deleted. Both queues are bounded: past them an
offer or a delivery is dropped and counted, never waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import http_ece
import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from parley.domain.models import Message, NotificationPrefs, PushSubscription, Room
from parley.domain.notify_prefs import effective_level, quiet, wants
from parley.domain.push import EndpointRefused, VapidKeys, check_endpoint, pinned, unb64url

if TYPE_CHECKING:
    from parley.domain.context import Context

log = logging.getLogger(__name__)

# New messages waiting for the decider, and deliveries waiting for a worker.
OFFER_QUEUE_MAX = 2_000
DELIVERY_QUEUE_MAX = 2_000
# Requests in flight at once: a slow push service holds a worker for up to
# REQUEST_TIMEOUT_S, so there are enough that one slow service does not stall the rest.
WORKERS = 16
REQUEST_TIMEOUT_S = 10.0
# Attempts after the first, and the waits before them (a Retry-After is taken up to
# MAX_RETRY_AFTER_S).
RETRY_DELAYS_S = (1.0, 4.0, 15.0)
MAX_RETRY_AFTER_S = 120.0
# How long a push service keeps an undelivered message (seconds; RFC 8030 TTL).
PUSH_TTL_S = 6 * 3600
# A VAPID token's lifetime (RFC 8292: at most 24 h).
VAPID_TOKEN_S = 12 * 3600
# Who has subscriptions is read again this often (another process may have added one).
SUBSCRIBERS_REFRESH_S = 5.0
# An endpoint's host, checked to be public after DNS, is trusted this long.
ENDPOINT_CHECK_S = 60.0
MAX_CHECKED_HOSTS = 1_000
EXCERPT_CHARS = 200
FALLBACK_CONTACT = "mailto:parley@localhost"


@dataclass
class PushCounts:
    """What this process's pushes came to (``/metrics``)."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    gone: int = 0
    retried: int = 0


@dataclass
class Delivery:
    subscription: PushSubscription
    payload: bytes
    topic: str
    urgency: str
    attempt: int = 0
    # When the message was offered (time.monotonic()), for the log.
    offered_at: float = field(default_factory=time.monotonic)


def payload_for(
    message: Message, room: Room, prefs: NotificationPrefs, *, mentioned: bool
) -> dict[str, Any]:
    """What a device is told: enough to show a notification and open the room. The text
    is left out when the person asked so and the room is not public."""
    conversation = room.kind in ("dm", "group")
    name = message.author.display_name if room.kind == "dm" else room.name
    payload: dict[str, Any] = {
        "kind": "message",
        "room_id": room.id,
        "room_name": name or "Conversation",
        "room_kind": room.kind,
        "author": message.author.display_name,
        "message_id": message.id,
        "seq": message.seq,
        "mention": mentioned,
        "url": f"/rooms/{room.id}",
    }
    private = room.visibility != "public" or conversation
    if not (prefs.hide_content and private):
        excerpt = message.body.strip()
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
        if not excerpt and message.attachments:
            excerpt = f"{len(message.attachments)} attachment(s)"
        payload["text"] = excerpt
    return payload


def encrypt(payload: bytes, sub: PushSubscription) -> bytes:
    """The body for the push service: aes128gcm for the browser's keys (RFC 8291)."""
    return bytes(
        http_ece.encrypt(
            payload,
            salt=os.urandom(16),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=unb64url(sub.p256dh),
            auth_secret=unb64url(sub.auth),
            version="aes128gcm",
        )
    )


class PushService:
    """This process's Web Push: offers in, deliveries out (see the module's notes)."""

    def __init__(self, ctx: Context, keys: VapidKeys) -> None:
        self._ctx = ctx
        self.keys = keys
        self.counts = PushCounts()
        self._offers: asyncio.Queue[Message] = asyncio.Queue(OFFER_QUEUE_MAX)
        self._deliveries: asyncio.Queue[Delivery] = asyncio.Queue(DELIVERY_QUEUE_MAX)
        self._subscribers: set[int] = set()
        # Endpoint host -> (checked until, the address it was checked to have).
        self._checked: dict[str, tuple[float, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.TimerHandle] = set()
        self._http: httpx.AsyncClient | None = None
        settings = ctx.settings
        self._contact = settings.push_contact or (
            f"mailto:{settings.mail_from}"
            if settings.mail_from
            else settings.public_url
            if settings.public_url.startswith("https://")
            else FALLBACK_CONTACT
        )

    @property
    def public_key(self) -> str:
        return self.keys.public_key

    @property
    def queue_depth(self) -> int:
        return self._offers.qsize() + self._deliveries.qsize()

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, follow_redirects=False)
        await self._refresh_subscribers()
        self._tasks.append(asyncio.create_task(self._decide_forever(), name="push-decider"))
        self._tasks.append(asyncio.create_task(self._refresh_forever(), name="push-subscribers"))
        for n in range(WORKERS):
            self._tasks.append(asyncio.create_task(self._deliver_forever(), name=f"push-{n}"))

    async def close(self) -> None:
        for handle in self._retries:
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._http is not None:
            await self._http.aclose()

    # -- offers -------------------------------------------------------------------------

    def subscribed(self, user_id: int) -> None:
        self._subscribers.add(user_id)

    def offer(self, message: Message) -> None:
        """A new message was stored by this process: push it to whoever wants it. Never
        waits; nothing to do (nobody on the server has push) costs one set lookup. The
        set only gates: who is pushed is read from the database, so a subscription made
        on another process counts at once, except while this process still believes
        nobody has one (SUBSCRIBERS_REFRESH_S at most)."""
        if not self._subscribers or not self._tasks:
            return
        if len(self._subscribers) == 1 and message.author.id in self._subscribers:
            return
        try:
            self._offers.put_nowait(message)
        except asyncio.QueueFull:
            self.counts.dropped += 1

    async def _refresh_subscribers(self) -> None:
        self._subscribers = await self._ctx.store.notifications.subscriber_ids()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(SUBSCRIBERS_REFRESH_S)
            try:
                await self._refresh_subscribers()
            except Exception:
                log.exception("push: reading who has subscriptions failed")

    async def _decide_forever(self) -> None:
        while True:
            message = await self._offers.get()
            try:
                await self._decide(message)
            except Exception:
                log.exception("push: deciding who gets message %s failed", message.id)

    async def _decide(self, message: Message) -> None:
        ctx = self._ctx
        store = ctx.store.notifications
        room = await ctx.store.rooms.get(message.room_id)
        if room is None:
            return
        named = set(message.mentions)
        mentioned: dict[int, bool] = {}
        for target in await store.push_targets(room.id, message.author.id):
            level = effective_level(room.kind, target.notify_level, target.muted)
            is_named = message.mentions_room or target.user_id in named
            if wants(level, mentioned=is_named):
                mentioned[target.user_id] = is_named
        if not mentioned:
            return
        attentive = await ctx.presence.attentive(sorted(mentioned))
        away = [uid for uid in sorted(mentioned) if uid not in attentive]
        prefs = await store.prefs_of(away)
        now = datetime.now(UTC)
        away = [uid for uid in away if not quiet(prefs.get(uid, NotificationPrefs()), now)]
        for sub in await store.subscriptions_of(away):
            body = payload_for(
                message,
                room,
                prefs.get(sub.user_id, NotificationPrefs()),
                mentioned=mentioned[sub.user_id],
            )
            conversation = room.kind in ("dm", "group")
            delivery = Delivery(
                subscription=sub,
                payload=orjson.dumps(body),
                topic=f"room-{room.id}",
                urgency="high" if mentioned[sub.user_id] or conversation else "normal",
            )
            try:
                self._deliveries.put_nowait(delivery)
            except asyncio.QueueFull:
                self.counts.dropped += 1

    # -- deliveries ---------------------------------------------------------------------

    async def _deliver_forever(self) -> None:
        while True:
            delivery = await self._deliveries.get()
            try:
                await self._deliver(delivery)
            except Exception:
                self.counts.failed += 1
                log.exception("push: delivery to subscription %s failed", delivery.subscription.id)

    async def _checked_address(self, endpoint: str) -> str | None:
        """The address the endpoint's host was checked to have (None: refused)."""
        host = urlsplit(endpoint).netloc
        expires, address = self._checked.get(host, (0.0, ""))
        if expires > time.monotonic():
            return address
        try:
            address = await check_endpoint(endpoint, allow_http=self._ctx.settings.push_allow_http)
        except EndpointRefused as exc:
            log.warning("push: not sending to %s: %s", host, exc)
            return None
        if len(self._checked) >= MAX_CHECKED_HOSTS:
            self._checked.clear()  # push services are a handful; anything else is junk
        self._checked[host] = (time.monotonic() + ENDPOINT_CHECK_S, address)
        return address

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        parts = urlsplit(delivery.subscription.endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + VAPID_TOKEN_S,
            "sub": self._contact,
        }
        signed: dict[str, str] = self.keys.vapid.sign(claims)
        return {
            "Authorization": signed["Authorization"],
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(PUSH_TTL_S),
            "Urgency": delivery.urgency,
            "Topic": delivery.topic,
        }

    async def _deliver(self, delivery: Delivery) -> None:
        sub = delivery.subscription
        address = await self._checked_address(sub.endpoint)
        if address is None:
            self.counts.failed += 1
            return
        assert self._http is not None
        url, host, server_name = pinned(sub.endpoint, address)
        retry_after: float | None = None
        try:
            response = await self._http.post(
                url,
                content=encrypt(delivery.payload, sub),
                headers={**self._headers(delivery), "Host": host},
                extensions={"sni_hostname": server_name},
            )
        except httpx.HTTPError as exc:
            log.info("push: %s did not answer (%s)", urlsplit(sub.endpoint).netloc, exc)
        else:
            status = response.status_code
            if 200 <= status < 300:
                self.counts.sent += 1
                return
            if status in (404, 410):
                self.counts.gone += 1
                await self._ctx.store.notifications.delete_subscription(sub.id)
                return
            if status != 429 and status < 500:
                self.counts.failed += 1
                log.warning(
                    "push: %s refused a message (%d)", urlsplit(sub.endpoint).netloc, status
                )
                return
            retry_after = _retry_after(response.headers.get("Retry-After"))
        self._retry(delivery, retry_after)

    def _retry(self, delivery: Delivery, retry_after: float | None) -> None:
        if delivery.attempt >= len(RETRY_DELAYS_S):
            self.counts.failed += 1
            return
        delay = retry_after if retry_after is not None else RETRY_DELAYS_S[delivery.attempt]
        delivery.attempt += 1
        self.counts.retried += 1
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def again() -> None:
            self._retries.discard(handle)
            try:
                self._deliveries.put_nowait(delivery)
            except asyncio.QueueFull:
                self.counts.dropped += 1

        handle = loop.call_later(min(delay, MAX_RETRY_AFTER_S), again)
        self._retries.add(handle)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
