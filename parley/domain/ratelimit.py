"""Rate limits: token buckets for sending, sliding windows for logins and sign-ups.

In-process by default; the numbers are the contract's.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Contract: a person may register at least 60 accounts an hour from one address.
REGISTRATIONS_PER_HOUR = 60
REGISTRATION_WINDOW_S = 3600.0
# Contract: at most 10 failed logins for one account in 15 minutes.
FAILED_LOGINS_ALLOWED = 10
FAILED_LOGIN_WINDOW_S = 15 * 60.0
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


class RateLimits:
    """The limits one Parley process enforces."""

    def __init__(self, send_rate: float, send_burst: int) -> None:
        self.sends = TokenBucket(send_rate, send_burst)
        self.registrations = SlidingWindow(REGISTRATIONS_PER_HOUR, REGISTRATION_WINDOW_S)
        self.failed_logins = SlidingWindow(FAILED_LOGINS_ALLOWED, FAILED_LOGIN_WINDOW_S)
