"""Fan-out through Redis: one PUBLISH per event, on one channel that every process reads.

Why one channel and not one per room: with per-room channels a process must finish its
SUBSCRIBE before a new local member reads the room's position, or a message published in
between is lost to that member; one channel has no such window, and skipping an event
for a room nobody here follows costs one header decode and a dict lookup. Past a few
dozen processes the channel can be sharded by room id without changing the interface.

Redis pub/sub is fire-and-forget: what is published while a process is disconnected is
gone. So every (re)subscription makes a ``resync`` event, and the gateway then catches
its rooms up from the database, where every message is before it is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from parley.bus.base import Bus, Event, EventHandler
from parley.bus.redis_presence import DEFAULT_PRESENCE_TTL_S, RedisPresence
from parley.config import DEFAULT_REDIS_PREFIX
from parley.domain.presence import Presence
from parley.metrics import BusReadings

log = logging.getLogger(__name__)

# A publish that takes longer is given up for now and retried in the background.
PUBLISH_TIMEOUT_S = 5.0
# Events kept for a later publish while Redis is away; past it the oldest are dropped
# (their messages are in the database and reach the others by a resync or gap fill).
MAX_UNSENT = 10_000
# Events sent in one pipeline (one round trip).
PUBLISH_BATCH = 500
# On shutdown, how long queued events may take to reach Redis.
CLOSE_FLUSH_S = 2.0
CONNECT_TIMEOUT_S = 2.0
# The subscriber pings this often when idle, so a silently dead link is noticed.
HEALTH_CHECK_S = 5
READ_POLL_S = 1.0
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 5.0
# How long start() waits for the first subscription before serving anyway.
FIRST_SUBSCRIBE_WAIT_S = 5.0


class RedisBus:
    """Publishes every event once to ``<prefix>:events`` and hands what arrives to the hub."""

    def __init__(self, url: str, prefix: str = DEFAULT_REDIS_PREFIX) -> None:
        self._url = url
        self.id = f"{os.getpid():x}-{os.urandom(4).hex()}"
        self.channel = f"{prefix}:events"
        # One immediate retry: after Redis restarts, the pooled connection is dead and
        # the first publish fails on it; a fresh one works. No backoff: a publish that
        # still fails is handled here, at once.
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=PUBLISH_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
        )
        self._handler: EventHandler | None = None
        self._task: asyncio.Task[None] | None = None
        # Events waiting for their PUBLISH, oldest first (see publish_nowait).
        self._outbox: deque[Event] = deque()
        self._publisher: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self._subscriptions = 0
        # Read by /metrics; plain ints so that the hot path stays cheap.
        self.published = 0
        self.publish_failures = 0
        self.received = 0
        self.reconnects = 0
        self.lag_s = 0.0

    def readings(self) -> BusReadings:
        return BusReadings(
            lag_s=self.lag_s,
            published=self.published,
            publish_failures=self.publish_failures,
            reconnects=self.reconnects,
        )

    async def start(self, handler: EventHandler) -> None:
        self._handler = handler
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="redis-bus")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.subscribed.wait(), FIRST_SUBSCRIBE_WAIT_S)
        if not self.subscribed.is_set():
            log.warning("Redis is not reachable yet; serving and retrying in the background")

    async def publish(self, event: Event) -> None:
        self.publish_nowait(event)

    def publish_nowait(self, event: Event) -> None:
        """Deliver to this process at once; the other processes get it through Redis.

        This process's own members never wait on Redis, and a sender's own message keeps
        its ``origin`` here even when another process's message overtakes it on the
        channel (the echo from Redis is skipped). The PUBLISH itself is queued: one task
        sends what is waiting in order, many events per round trip (a pipeline), and
        keeps retrying while Redis is away. Never raises: the message is already stored,
        and the other processes fill a gap from the database when they see a later seq
        or when their subscription comes back.
        """
        event.sent_at = time.time()
        event.source = self.id
        self._deliver(event)
        if len(self._outbox) >= MAX_UNSENT:
            self._outbox.popleft()  # the database still has it; a resync recovers it
        self._outbox.append(event)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(
                self._publish_outbox(), name="redis-bus-publish"
            )

    async def _publish_outbox(self) -> None:
        delay = RECONNECT_MIN_S
        while self._outbox:
            count = min(len(self._outbox), PUBLISH_BATCH)
            batch = [self._outbox.popleft() for _ in range(count)]
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for event in batch:
                        pipe.publish(self.channel, event.encode())
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                if delay == RECONNECT_MIN_S:
                    log.warning("publish to Redis failed (%s); retrying in the background", exc)
                self.publish_failures += 1
                # Back in front, in order: publishing late costs nothing (receivers drop
                # seqs they have), and it spares the others a wait for a gap fill.
                self._outbox.extendleft(reversed(batch))
                while len(self._outbox) > MAX_UNSENT:
                    self._outbox.popleft()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            delay = RECONNECT_MIN_S
            self.published += count

    async def close(self) -> None:
        if self._publisher is not None:
            # What is queued is published unless Redis is away (then it is dropped: the
            # messages are stored and the other processes resync from the database).
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._publisher), CLOSE_FLUSH_S)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._client.aclose()
        self._handler = None

    def _deliver(self, event: Event) -> None:
        if self._handler is None:
            return
        try:
            self._handler(event)
        except Exception:  # one bad event must not stop the subscription
            log.exception("applying a %s event failed", event.kind)

    def _on_message(self, data: bytes) -> None:
        self.received += 1
        try:
            event = Event.decode(data)
        except (ValueError, TypeError):
            log.warning("ignoring a malformed event on %s", self.channel)
            return
        if event.source == self.id:
            return  # delivered locally when it was published
        if event.sent_at:
            self.lag_s = max(0.0, time.time() - event.sent_at)
        self._deliver(event)

    async def _listen(self) -> None:
        """Subscribe, read, and on any failure reconnect with a growing delay."""
        delay = RECONNECT_MIN_S
        while True:
            client = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=CONNECT_TIMEOUT_S,
                health_check_interval=HEALTH_CHECK_S,
                retry=Retry(NoBackoff(), 0),
            )
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=READ_POLL_S)
                    if message is None:
                        continue
                    if message["type"] == "message":
                        self._on_message(message["data"])
                    elif message["type"] == "subscribe":
                        # Also seen if the client reconnected by itself: either way,
                        # what was published meanwhile is lost, so catch up.
                        if self._subscriptions:
                            self.reconnects += 1
                            log.info("subscribed to Redis again; catching up from the database")
                        self._subscriptions += 1
                        self.subscribed.set()
                        delay = RECONNECT_MIN_S
                        self._deliver(Event(kind="resync"))
            except (RedisError, OSError) as exc:
                if self.subscribed.is_set():
                    log.warning("lost the Redis subscription (%s); reconnecting", exc)
                self.subscribed.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)


async def open_redis_fan_out(
    url: str, *, prefix: str = DEFAULT_REDIS_PREFIX, presence_ttl_s: float = DEFAULT_PRESENCE_TTL_S
) -> tuple[Bus, Presence]:
    """The Redis bus and the presence shared through the same Redis."""
    presence = RedisPresence(url, prefix, presence_ttl_s)
    presence.start()
    return RedisBus(url, prefix), presence
