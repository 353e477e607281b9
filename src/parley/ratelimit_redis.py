"""Rate limits shared by every Parley process through Redis (when PARLEY_REDIS_URL is set).

Same rules as parley.domain.ratelimit, kept in Redis so that a flood or a password
guesser spreading requests over several processes meets one limit. Each check is one
Lua script, so it is atomic, and uses Redis's clock, so processes whose clocks differ
still agree. Keys expire on their own once idle.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from parley.domain import ratelimit
from parley.domain.ratelimit import RateLimits, TokenBucket, backoff_delay

_log = logging.getLogger(__name__)
# Redis down, restarting or cut off; not a bad script or a wrong reply.
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

DEFAULT_PREFIX = "parley"
# A key never holds more events than this (a flood cannot grow one without bound).
MAX_EVENTS_PER_KEY = 1000

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS[1] bucket; ARGV rate, burst. Returns the wait in seconds as a string (0 = taken).
_TAKE = (
    _NOW
    + """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(b[1])
local updated = tonumber(b[2])
if tokens == nil then tokens = burst; updated = now end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""
)

# KEYS[1] bucket; ARGV burst.
_REFUND = """
local t = tonumber(redis.call('HGET', KEYS[1], 't'))
if t ~= nil then
  redis.call('HSET', KEYS[1], 't', tostring(math.min(tonumber(ARGV[1]), t + 1)))
end
return 0
"""

# KEYS[1] sorted set of event times; ARGV window. Returns {count, oldest, newest, now}.
_RECENT = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
local count = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or '0'
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2] or '0'
return {tostring(count), oldest, newest, tostring(now)}
"""
)

# KEYS[1] sorted set; ARGV window, unique member, cap.
_RECORD = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 1)
return 0
"""
)


class RedisSends:
    """A token bucket per key, kept in Redis; in this process while Redis is unreachable.

    Sends go on through a Redis restart (they are stored in the database and fanned out
    once Redis is back, see docs/deploy.md), so the limiter must not turn an outage into
    refused messages. Meanwhile each process keeps its own bucket of the same size: a
    flood still meets a limit, per process instead of per deployment, for that time.
    """

    def __init__(self, client: aioredis.Redis, name: str, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._prefix = f"{name}:"
        self._take = client.register_script(_TAKE)
        self._refund = client.register_script(_REFUND)
        self._local = TokenBucket(rate, burst)

    async def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        try:
            wait = await self._take(keys=[self._prefix + key], args=[self.rate, self.burst])
        except UNREACHABLE as exc:
            _log.warning("rate limit %s kept in this process: Redis unreachable (%s)", key, exc)
            return self._local.take(key)
        return float(wait)

    def take_now(self, key: str) -> float | None:
        return 0.0 if self.rate <= 0 else None  # the bucket is in Redis

    async def refund(self, key: str) -> None:
        if self.rate <= 0:
            return
        try:
            await self._refund(keys=[self._prefix + key], args=[self.burst])
        except UNREACHABLE:
            self._local.refund(key)


class RedisEvents:
    """Recent event times per key (a sorted set), kept ``window`` seconds.

    While Redis is unreachable the same rule runs on ``fallback``, this process's own
    window: a sign-up or a sign-in is never refused because Redis is down, and a password
    guesser still meets a limit (per process instead of per deployment) for that time.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        name: str,
        window: float,
        fallback: ratelimit.LocalWindow | ratelimit.LocalBackoff,
    ) -> None:
        self.window = window
        self._client = client
        self._prefix = f"{name}:"
        self._recent = client.register_script(_RECENT)
        self._record = client.register_script(_RECORD)
        self._fallback = fallback

    async def recent(self, key: str) -> tuple[int, float, float, float]:
        """Count, oldest and newest event time, and Redis's now."""
        raw: list[Any] = await self._recent(keys=[self._prefix + key], args=[self.window])
        count, oldest, newest, now = (float(v) for v in raw)
        return int(count), oldest, newest, now

    async def retry_after(self, key: str) -> float:
        try:
            return self._rule(*await self.recent(key))
        except UNREACHABLE as exc:
            _log.warning("limit %s kept in this process: Redis unreachable (%s)", key, exc)
            return await self._fallback.retry_after(key)

    def _rule(self, count: int, oldest: float, newest: float, now: float) -> float:
        raise NotImplementedError

    async def record(self, key: str) -> None:
        member = secrets.token_hex(8)  # two events in the same microsecond both count
        try:
            await self._record(
                keys=[self._prefix + key], args=[self.window, member, MAX_EVENTS_PER_KEY]
            )
        except UNREACHABLE:
            await self._fallback.record(key)

    async def reset(self, key: str) -> None:
        await self._fallback.reset(key)
        with contextlib.suppress(*UNREACHABLE):
            await self._client.delete(self._prefix + key)


class RedisWindow(RedisEvents):
    """At most ``allowed`` events per key in the window."""

    def __init__(self, client: aioredis.Redis, name: str, allowed: int, window: float) -> None:
        local = ratelimit.LocalWindow(ratelimit.SlidingWindow(allowed, window))
        super().__init__(client, name, window, local)
        self.allowed = allowed

    def _rule(self, count: int, oldest: float, newest: float, now: float) -> float:
        if count < self.allowed:
            return 0.0
        return max(0.001, oldest + self.window - now)


class RedisBackoff(RedisEvents):
    """Growing delays after repeated failures, as LocalBackoff."""

    def __init__(self, client: aioredis.Redis, name: str, window: float) -> None:
        local = ratelimit.LocalBackoff(ratelimit.SlidingWindow(ratelimit.MAX_TRACKED_KEYS, window))
        super().__init__(client, name, window, local)

    def _rule(self, count: int, oldest: float, newest: float, now: float) -> float:
        delay = backoff_delay(count)
        return max(0.0, newest + delay - now) if delay else 0.0


class RedisRateLimits(RateLimits):
    """Every limit of RateLimits, shared through one Redis connection pool."""

    def __init__(
        self,
        client: aioredis.Redis,
        send_rate: float,
        send_burst: int,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        rl = f"{prefix}:rl:"
        super().__init__(
            send_rate,
            send_burst,
            sends=RedisSends(client, rl + "send", send_rate, send_burst),
            registrations=RedisWindow(
                client,
                rl + "register",
                ratelimit.REGISTRATIONS_PER_HOUR,
                ratelimit.REGISTRATION_WINDOW_S,
            ),
            failed_logins=RedisWindow(
                client,
                rl + "login",
                ratelimit.FAILED_LOGINS_ALLOWED,
                ratelimit.FAILED_LOGIN_WINDOW_S,
            ),
            login_addresses=RedisBackoff(client, rl + "login-ip", ratelimit.ADDRESS_WINDOW_S),
            rooms=RedisSends(client, rl + "rooms", ratelimit.ROOMS_PER_S, ratelimit.ROOMS_BURST),
            uploads=RedisSends(
                client, rl + "uploads", ratelimit.UPLOADS_PER_S, ratelimit.UPLOADS_BURST
            ),
            searches=RedisSends(
                client, rl + "search", ratelimit.SEARCHES_PER_S, ratelimit.SEARCHES_BURST
            ),
            passkey_challenges=RedisSends(
                client,
                rl + "passkey",
                ratelimit.PASSKEY_CHALLENGES_PER_S,
                ratelimit.PASSKEY_CHALLENGES_BURST,
            ),
            admin_actions=RedisSends(
                client, rl + "admin", ratelimit.ADMIN_ACTIONS_PER_S, ratelimit.ADMIN_ACTIONS_BURST
            ),
            reset_requests=RedisSends(
                client, rl + "reset", ratelimit.RESET_REQUESTS_PER_S, ratelimit.RESET_REQUESTS_BURST
            ),
            mails=RedisSends(client, rl + "mail", ratelimit.MAILS_PER_S, ratelimit.MAILS_BURST),
            people=RedisSends(
                client, rl + "people", ratelimit.PEOPLE_PER_S, ratelimit.PEOPLE_BURST
            ),
            previews=RedisSends(
                client, rl + "previews", ratelimit.PREVIEWS_PER_S, ratelimit.PREVIEWS_BURST
            ),
            notify_changes=RedisSends(
                client,
                rl + "notify",
                ratelimit.NOTIFY_CHANGES_PER_S,
                ratelimit.NOTIFY_CHANGES_BURST,
            ),
        )
        self._client = client

    async def close(self) -> None:
        await self._client.aclose()


def open_redis_limits(
    url: str, send_rate: float, send_burst: int, *, prefix: str = DEFAULT_PREFIX
) -> RedisRateLimits:
    """Limits kept in the Redis at ``url`` under ``<prefix>:rl:`` (connects on first use)."""
    return RedisRateLimits(aioredis.from_url(url), send_rate, send_burst, prefix)
