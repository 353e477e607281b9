"""Rate limits: token buckets for sending, sliding windows for logins and sign-ups.

The rules (TokenBucket, SlidingWindow, the backoff in :func:`backoff_delay`) are pure
and synchronous. The domain reaches them through :class:`RateLimits`, whose limiters
are async so that the same calls work in-process (this module) or shared by several
processes through Redis (parley.ratelimit_redis). The numbers are the contract's.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from parley.errors import RateLimited

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
# Rooms a person may create: 10 at once, then one every 6 minutes (10 an hour), so that
# nobody can fill the public directory (600 rooms in 3 s did before).
ROOMS_BURST = 10
ROOMS_PER_S = 10 / 3600
# Uploads a person may start: 20 at once, then one every 3 seconds. The bytes they may
# store are bounded separately (PARLEY_UPLOAD_QUOTA_MB a day, parley.domain.files).
UPLOADS_BURST = 20
UPLOADS_PER_S = 1 / 3
# Searches a person may run: 10 at once, then one a second (each is also time-bounded).
# A site admin's changes (console writes, reset links): plenty for real work, not a loop.
ADMIN_ACTIONS_BURST = 60
ADMIN_ACTIONS_PER_S = 1.0
# "Forgot password" requests, by client address.
RESET_REQUESTS_BURST = 5
RESET_REQUESTS_PER_S = 5 / 3600
SEARCHES_BURST = 10
SEARCHES_PER_S = 1.0
# Passkey challenges one client address (or signed-in person) may ask for: each is a
# row kept for two minutes, so 20 at once, then one every 3 seconds.
PASSKEY_CHALLENGES_BURST = 20
PASSKEY_CHALLENGES_PER_S = 1 / 3
# Mails a person may cause (address checks): 3 at once, then one every 5 minutes, so
# that nobody can use Parley to flood a mailbox.
MAILS_BURST = 3
MAILS_PER_S = 1 / 300
# Profile, status, avatar and custom emoji changes a person may make: 30 at once, then
# one every 2 seconds (each status change is a frame to everyone sharing a room).
PEOPLE_BURST = 30
PEOPLE_PER_S = 0.5
# Link preview fetches a person's messages may cause: 20 at once, then one every 6
# seconds (a URL already cached costs nothing). Past it, messages go without a preview.
PREVIEWS_BURST = 20
PREVIEWS_PER_S = 1 / 6
# Notification changes a person may make (push subscriptions, levels, settings): a
# settings page's worth at once, then one every 2 seconds.
NOTIFY_CHANGES_BURST = 30
NOTIFY_CHANGES_PER_S = 1 / 2
# Forget idle keys so that memory follows active users, not all users ever seen.
MAX_TRACKED_KEYS = 100_000
# When full, the tracker looks at this many of its least recently used keys and forgets
# the one that says least (fewest recent events; the fullest bucket), never everything:
# a flood of one-off junk keys then pushes out other junk, not a lock that holds.
EVICTION_SAMPLE = 16


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; ``rate == 0`` means no limit."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = MAX_TRACKED_KEYS,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        # Least recently used first.
        self._buckets: OrderedDict[object, _Bucket] = OrderedDict()

    def take(self, key: object) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._evict(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = self._level(bucket, now)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)

    def _evict(self, now: float) -> None:
        """Forget one bucket: of the least recently used few, the fullest (it knows least)."""
        sample = [k for k, _ in zip(self._buckets, range(EVICTION_SAMPLE), strict=False)]
        fullest = max(sample, key=lambda k: self._level(self._buckets[k], now))
        del self._buckets[fullest]

    def __len__(self) -> int:
        return len(self._buckets)

    def refund(self, key: object) -> None:
        """Give back a token taken for something that turned out not to count."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst, bucket.tokens + 1.0)


class SlidingWindow:
    """At most ``allowed`` events per key within ``window`` seconds."""

    def __init__(
        self,
        allowed: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = MAX_TRACKED_KEYS,
    ) -> None:
        self.allowed = allowed
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        # Least recently used first.
        self._events: OrderedDict[object, deque[float]] = OrderedDict()

    def _recent(self, key: object) -> deque[float]:
        now = self._clock()
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self._max_keys:
                self._evict(now)
            events = self._events[key] = deque()
        else:
            self._events.move_to_end(key)
        self._expire(events, now)
        return events

    def _expire(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.window:
            events.popleft()

    def _evict(self, now: float) -> None:
        """Forget one key: of the least recently used few, the one with fewest recent events.

        A key at its limit (a locked account) holds ``allowed`` events, a junk key from a
        flood holds one, so the flood evicts its own keys; ties go to the staler key.
        """
        sample = [k for k, _ in zip(self._events, range(EVICTION_SAMPLE), strict=False)]
        for key in sample:
            self._expire(self._events[key], now)
        weakest = min(sample, key=lambda k: len(self._events[k]))
        del self._events[weakest]

    def __len__(self) -> int:
        return len(self._events)

    def __contains__(self, key: object) -> bool:
        return key in self._events

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


async def spend(limiter: SendLimiter, user_id: int, message: str) -> None:
    """Take one of the user's tokens from ``limiter``, or raise RateLimited (429)."""
    wait = await limiter.take(str(user_id))
    if wait:
        raise RateLimited(wait, message)


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
    ``login_addresses`` by client address (IPv6 by network), with growing delays;
    ``sends``, ``rooms``, ``uploads`` and ``searches`` by user id; ``passkey_challenges``
    by client address (anonymous sign-in) or user id (registration). parley.ratelimit_redis
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
        rooms: SendLimiter | None = None,
        uploads: SendLimiter | None = None,
        searches: SendLimiter | None = None,
        passkey_challenges: SendLimiter | None = None,
        admin_actions: SendLimiter | None = None,
        reset_requests: SendLimiter | None = None,
        mails: SendLimiter | None = None,
        people: SendLimiter | None = None,
        previews: SendLimiter | None = None,
        notify_changes: SendLimiter | None = None,
    ) -> None:
        # Messages, edits and reactions: everything that reaches other members' screens.
        self.sends: SendLimiter = sends or LocalSends(TokenBucket(send_rate, send_burst))
        self.rooms: SendLimiter = rooms or LocalSends(TokenBucket(ROOMS_PER_S, ROOMS_BURST))
        self.uploads: SendLimiter = uploads or LocalSends(TokenBucket(UPLOADS_PER_S, UPLOADS_BURST))
        self.searches: SendLimiter = searches or LocalSends(
            TokenBucket(SEARCHES_PER_S, SEARCHES_BURST)
        )
        self.passkey_challenges: SendLimiter = passkey_challenges or LocalSends(
            TokenBucket(PASSKEY_CHALLENGES_PER_S, PASSKEY_CHALLENGES_BURST)
        )
        self.admin_actions: SendLimiter = admin_actions or LocalSends(
            TokenBucket(ADMIN_ACTIONS_PER_S, ADMIN_ACTIONS_BURST)
        )
        self.reset_requests: SendLimiter = reset_requests or LocalSends(
            TokenBucket(RESET_REQUESTS_PER_S, RESET_REQUESTS_BURST)
        )
        self.mails: SendLimiter = mails or LocalSends(TokenBucket(MAILS_PER_S, MAILS_BURST))
        self.people: SendLimiter = people or LocalSends(TokenBucket(PEOPLE_PER_S, PEOPLE_BURST))
        self.previews: SendLimiter = previews or LocalSends(
            TokenBucket(PREVIEWS_PER_S, PREVIEWS_BURST)
        )
        self.notify_changes: SendLimiter = notify_changes or LocalSends(
            TokenBucket(NOTIFY_CHANGES_PER_S, NOTIFY_CHANGES_BURST)
        )
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
