"""Presence shared by every process through Redis, robust to a process that crashes.

Each process counts its own connections per user (as LocalPresence does) and keeps, for
every user it has connected, an entry in the sorted set ``<prefix>:presence:<user id>``:
member = the process's id, score = when that entry expires. A heartbeat pushes the
scores forward; a process that dies stops doing so, and its entries stop counting after
PRESENCE_TTL_S. A user is online while any entry's score is in the future.

A process also lists the users it holds in ``<prefix>:proc:<process id>`` and keeps
itself in ``<prefix>:procs`` (scored like the entries). Every heartbeat, each process
looks there for processes whose time ran out; the one that claims a dead process (ZREM
answers 1 to only one) removes its entries and reports the users that are now offline
everywhere, so their co-members see them go offline.

Scores are wall-clock times of the processes, so processes on several machines need
synchronised clocks (NTP); a skew well under the TTL does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_PRESENCE_TTL_S = 30.0
# Heartbeats per TTL: an entry survives two missed heartbeats.
HEARTBEATS_PER_TTL = 3
REDIS_TIMEOUT_S = 2.0
# The process list outlives its last heartbeat by this many TTLs, then goes.
BOOKKEEPING_TTLS = 10
# Users refreshed per round trip by the heartbeat.
HEARTBEAT_CHUNK = 500


class RedisPresence:
    def __init__(self, url: str, prefix: str, ttl_s: float = DEFAULT_PRESENCE_TTL_S) -> None:
        # One immediate retry (a pooled connection is dead after Redis restarts), no
        # backoff: presence must never hold up a connection for long.
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
        )
        self._prefix = prefix
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self._ttl = ttl_s
        self._local: Counter[int] = Counter()
        # Users with a visible connection here: their attention entry is refreshed by the
        # heartbeat, like presence (a crashed process's lapses after the TTL).
        self._visible: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._on_offline: Callable[[list[int]], Awaitable[None]] | None = None

    def watch_offline(self, callback: Callable[[list[int]], Awaitable[None]]) -> None:
        """Call ``callback`` with the users a crashed process left offline everywhere."""
        self._on_offline = callback

    @property
    def _procs_key(self) -> str:
        return f"{self._prefix}:procs"

    def _users_key(self, process_id: str) -> str:
        return f"{self._prefix}:proc:{process_id}"

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:presence:{user_id}"

    def _attention_key(self, user_id: int) -> str:
        return f"{self._prefix}:attention:{user_id}"

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._heartbeat(), name="presence")

    async def connected(self, user_id: int) -> bool:
        """Count a new connection; True if the user was offline everywhere until now."""
        self._local[user_id] += 1
        if self._local[user_id] > 1:
            return False
        now = time.time()
        key = self._key(user_id)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrem(key, self.process_id)
                pipe.zcard(key)
                pipe.zadd(key, {self.process_id: now + self._ttl})
                pipe.expire(key, int(self._ttl) + 1)
                pipe.sadd(self._users_key(self.process_id), user_id)
                pipe.zadd(self._procs_key, {self.process_id: now + self._ttl})
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s)", exc)
            return True
        return int(results[2]) == 0

    async def disconnected(self, user_id: int) -> bool:
        """Count a closed connection; True if the user is now offline everywhere."""
        self._local[user_id] -= 1
        if self._local[user_id] > 0:
            return False
        del self._local[user_id]
        key = self._key(user_id)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zrem(key, self.process_id)
                pipe.zcount(key, time.time(), "+inf")
                pipe.srem(self._users_key(self.process_id), user_id)
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s)", exc)
            return True
        return int(results[1]) == 0

    async def online(self, user_ids: list[int]) -> set[int]:
        """Which of ``user_ids`` have a live connection on any process."""
        if not user_ids:
            return set()
        try:
            return await self._live(user_ids, self._key)
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s); answering for this process", exc)
            return {uid for uid in user_ids if uid in self._local}

    async def set_attention(self, user_id: int, until: float | None) -> None:
        """Until when the user is attentive through this process (sorted set
        ``<prefix>:attention:<user id>``: member = process id, score = that time)."""
        key = self._attention_key(user_id)
        if until is not None and math.isinf(until):
            self._visible.add(user_id)
            until = time.time() + self._ttl
        else:
            self._visible.discard(user_id)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                if until is None:
                    pipe.zrem(key, self.process_id)
                else:
                    pipe.zadd(key, {self.process_id: until})
                    pipe.expire(key, max(1, math.ceil(until - time.time())) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("attention: Redis unavailable (%s)", exc)

    async def attentive(self, user_ids: list[int]) -> set[int]:
        """Which of ``user_ids`` are attentive on any process."""
        if not user_ids:
            return set()
        try:
            return await self._live(user_ids, self._attention_key)
        except (RedisError, OSError) as exc:
            # Unknown: pushing to someone who is looking is the lesser harm than silence.
            log.warning("attention: Redis unavailable (%s)", exc)
            return set()

    async def _live(self, user_ids: list[int], key: Callable[[int], str]) -> set[int]:
        """The users whose sorted set ``key(user id)`` has a process whose time is not
        past: one pipelined ZCOUNT each."""
        now = time.time()
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zcount(key(user_id), now, "+inf")
            counts = await pipe.execute()
        return {uid for uid, count in zip(user_ids, counts, strict=True) if int(count) > 0}

    async def close(self) -> None:
        """Stop the heartbeat and take this process's users offline at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        users = list(self._local)
        self._local.clear()
        with contextlib.suppress(RedisError, OSError):
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id in users:
                    pipe.zrem(self._key(user_id), self.process_id)
                for user_id in self._visible:
                    pipe.zrem(self._attention_key(user_id), self.process_id)
                pipe.zrem(self._procs_key, self.process_id)
                pipe.delete(self._users_key(self.process_id))
                await pipe.execute()
        await self._client.aclose()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / HEARTBEATS_PER_TTL)
            try:
                await self._refresh()
                await self._sweep()
            except (RedisError, OSError) as exc:
                log.warning("presence heartbeat failed (%s)", exc)
            except Exception:  # the heartbeat must outlive a bad callback
                log.exception("presence heartbeat failed")

    async def _refresh(self) -> None:
        users = list(self._local)
        expires = time.time() + self._ttl
        # The bookkeeping keys expire too, so that a deployment (or a test run) that is
        # gone for good leaves nothing behind in Redis.
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(self._procs_key, {self.process_id: expires})
            pipe.expire(self._procs_key, int(self._ttl * BOOKKEEPING_TTLS))
            pipe.expire(self._users_key(self.process_id), int(self._ttl * BOOKKEEPING_TTLS))
            await pipe.execute()
        for start in range(0, len(users), HEARTBEAT_CHUNK):
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id in users[start : start + HEARTBEAT_CHUNK]:
                    key = self._key(user_id)
                    pipe.zadd(key, {self.process_id: expires})
                    pipe.expire(key, int(self._ttl) + 1)
                await pipe.execute()
        visible = list(self._visible)
        for start in range(0, len(visible), HEARTBEAT_CHUNK):
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id in visible[start : start + HEARTBEAT_CHUNK]:
                    key = self._attention_key(user_id)
                    pipe.zadd(key, {self.process_id: expires})
                    pipe.expire(key, int(self._ttl) + 1)
                await pipe.execute()

    async def _sweep(self) -> None:
        """Take the users of processes that stopped heartbeating offline."""
        now = time.time()
        dead = await self._client.zrangebyscore(self._procs_key, "-inf", now)
        for raw in dead:
            process_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if not await self._client.zrem(self._procs_key, process_id):
                continue  # another process claimed it
            users_key = self._users_key(process_id)
            user_ids = [int(u) for u in await self._client.smembers(users_key)]
            await self._client.delete(users_key)
            offline = []
            for user_id in user_ids:
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.zrem(self._key(user_id), process_id)
                    pipe.zcount(self._key(user_id), now, "+inf")
                    _, count = await pipe.execute()
                if int(count) == 0:
                    offline.append(user_id)
            log.info("process %s stopped; %d of its users are offline", process_id, len(offline))
            if offline and self._on_offline is not None:
                await self._on_offline(offline)
