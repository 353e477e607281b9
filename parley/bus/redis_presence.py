"""Presence shared by every process through Redis, robust to a process that crashes.

Each process counts its own connections per user (as LocalPresence does) and keeps, for
every user it has connected, an entry in the sorted set ``<prefix>:presence:<user id>``:
member = the process's id, score = when that entry expires. A heartbeat pushes the
scores forward; a process that dies stops doing so, and its entries stop counting after
PRESENCE_TTL_S. A user is online while any entry's score is in the future.

Scores are wall-clock times of the processes, so processes on several machines need
synchronised clocks (NTP); a skew well under PRESENCE_TTL_S does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PRESENCE_TTL_S = 30.0
HEARTBEAT_S = 10.0
REDIS_TIMEOUT_S = 2.0
# Users refreshed per round trip by the heartbeat.
HEARTBEAT_CHUNK = 500


class RedisPresence:
    def __init__(self, url: str, prefix: str) -> None:
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
        self._local: Counter[int] = Counter()
        self._task: asyncio.Task[None] | None = None

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:presence:{user_id}"

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
                pipe.zadd(key, {self.process_id: now + PRESENCE_TTL_S})
                pipe.expire(key, int(PRESENCE_TTL_S) + 1)
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
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s)", exc)
            return True
        return int(results[1]) == 0

    async def online(self, user_ids: list[int]) -> set[int]:
        """Which of ``user_ids`` have a live connection on any process."""
        if not user_ids:
            return set()
        now = time.time()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.zcount(self._key(user_id), now, "+inf")
                counts = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s); answering for this process", exc)
            return {uid for uid in user_ids if uid in self._local}
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
                await pipe.execute()
        await self._client.aclose()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self._refresh()
            except (RedisError, OSError) as exc:
                log.warning("presence heartbeat failed (%s)", exc)

    async def _refresh(self) -> None:
        users = list(self._local)
        expires = time.time() + PRESENCE_TTL_S
        for start in range(0, len(users), HEARTBEAT_CHUNK):
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id in users[start : start + HEARTBEAT_CHUNK]:
                    key = self._key(user_id)
                    pipe.zadd(key, {self.process_id: expires})
                    pipe.expire(key, int(PRESENCE_TTL_S) + 1)
                await pipe.execute()
