"""Rate limits: token buckets for sending, sliding windows for logins and sign-ups.

The rules (TokenBucket, SlidingWindow, the backoff in :func:`backoff_delay`) are pure
and synchronous. The domain reaches them through :class:`RateLimits`, whose limiters
are async so that the same calls work in-process (this module) or shared by several
processes through Redis (parley.ratelimit_redis). The numbers are the contract's.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Contract: a person may register at least 60 accounts an hour from one address.
REGISTRATIONS_PER_HOUR = 60
REGISTRATION_WINDOW_S = 3600.0
# Contract: at most 10 failed logins for one account in 15 minutes.
FAILED_LOGINS_ALLOWED = 10
FAILED_LOGIN_WINDOW_S = 15 * 60.0
# Failed logins from one client address: this many in the window cost nothing (an
# office behind one NAT mistypes too), then each further failure doubles the wait.
ADDRESS_FREE_FAILURES = 20
ADDRESS_WINDOW_S = 15 * 60.0
ADDRESS_BASE_DELAY_S = 1.0
ADDRESS_MAX_DELAY_S = 5 * 60.0
# Forget idle buckets so that memory follows active users, not all users ever seen.
MAX_TRACKED_KEYS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; ``rate == 0`` means no limit."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[object, _Bucket] = {}

    def take(self, key: object) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_KEYS:
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def refund(self, key: object) -> None:
        """Give back a token taken for something that turned out not to count."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst, bucket.tokens + 1.0)


class SlidingWindow:
    """At most ``allowed`` events per key within ``window`` seconds."""

    def __init__(
        self, allowed: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.allowed = allowed
        self.window = window
        self._clock = clock
        self._events: dict[object, deque[float]] = {}

    def _recent(self, key: object) -> deque[float]:
        now = self._clock()
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= MAX_TRACKED_KEYS:
                self._events.clear()
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, key: object) -> float:
        """0.0 if another event is allowed now, else the seconds to wait."""
        events = self._recent(key)
        if len(events) < self.allowed:
            return 0.0
        return max(0.001, events[0] + self.window - self._clock())

    def record(self, key: object) -> None:
        self._recent(key).append(self._clock())

    def reset(self, key: object) -> None:
        self._events.pop(key, None)

    def recent(self, key: object) -> tuple[int, float]:
        """How many events the key has in the window, and when the newest happened."""
        events = self._recent(key)
        return len(events), (events[-1] if events else 0.0)

    def now(self) -> float:
        return self._clock()


def backoff_delay(failures: int) -> float:
    """The wait after ``failures`` recent failures from one address: 0, then doubling."""
    over = failures - ADDRESS_FREE_FAILURES
    if over < 0:
        return 0.0
    return min(ADDRESS_MAX_DELAY_S, ADDRESS_BASE_DELAY_S * 2.0 ** min(over, 32))


# -- the async interface the domain uses -----------------------------------------------


class SendLimiter(Protocol):
    async def take(self, key: str) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is available."""
        ...

    def take_now(self, key: str) -> float | None:
        """:meth:`take` without waiting, or None when the answer needs I/O (untaken)."""
        ...

    async def refund(self, key: str) -> None: ...


class EventLimiter(Protocol):
    async def retry_after(self, key: str) -> float:
        """0.0 if the next event is allowed now, else the seconds to wait."""
        ...

    async def record(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class LocalSends:
    """A :class:`TokenBucket` of this process behind the async interface."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket

    async def take(self, key: str) -> float:
        return self.bucket.take(key)

    def take_now(self, key: str) -> float | None:
        return self.bucket.take(key)

    async def refund(self, key: str) -> None:
        self.bucket.refund(key)


class LocalWindow:
    """A :class:`SlidingWindow` of this process behind the async interface."""

    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    async def retry_after(self, key: str) -> float:
        return self.window.retry_after(key)

    async def record(self, key: str) -> None:
        self.window.record(key)

    async def reset(self, key: str) -> None:
        self.window.reset(key)


class LocalBackoff:
    """Growing delays after repeated failures from one key (a client address)."""

    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    async def retry_after(self, key: str) -> float:
        count, newest = self.window.recent(key)
        delay = backoff_delay(count)
        return max(0.0, newest + delay - self.window.now()) if delay else 0.0

    async def record(self, key: str) -> None:
        self.window.record(key)

    async def reset(self, key: str) -> None:
        self.window.reset(key)


class RateLimits:
    """Every limit the domain enforces: in this process's memory unless others are given.

    ``failed_logins`` is keyed by account (the contract's 10 in 15 minutes);
    ``login_addresses`` by client address, with growing delays. parley.ratelimit_redis
    builds the same set shared by every process through Redis.
    """

    def __init__(
        self,
        send_rate: float,
        send_burst: int,
        *,
        sends: SendLimiter | None = None,
        registrations: EventLimiter | None = None,
        failed_logins: EventLimiter | None = None,
        login_addresses: EventLimiter | None = None,
    ) -> None:
        self.sends: SendLimiter = sends or LocalSends(TokenBucket(send_rate, send_burst))
        self.registrations: EventLimiter = registrations or LocalWindow(
            SlidingWindow(REGISTRATIONS_PER_HOUR, REGISTRATION_WINDOW_S)
        )
        self.failed_logins: EventLimiter = failed_logins or LocalWindow(
            SlidingWindow(FAILED_LOGINS_ALLOWED, FAILED_LOGIN_WINDOW_S)
        )
        # The window only has to remember; the rule is the backoff's.
        self.login_addresses: EventLimiter = login_addresses or LocalBackoff(
            SlidingWindow(MAX_TRACKED_KEYS, ADDRESS_WINDOW_S)
        )

    async def close(self) -> None:
        """Release shared resources (nothing to do in-process)."""
