"""Issue 19 item 5: a flood of junk keys must not wipe a lockout that holds.

The in-process trackers used to clear themselves entirely when they reached
MAX_TRACKED_KEYS: 100,000 failed logins with distinct junk usernames from one
address erased the victim's lock. Now a full tracker forgets, one at a time, the
least telling of its least recently used keys.
"""

from __future__ import annotations

from parley.domain import ratelimit
from parley.domain.ratelimit import (
    FAILED_LOGINS_ALLOWED,
    MAX_TRACKED_KEYS,
    LocalWindow,
    RateLimits,
    SlidingWindow,
    TokenBucket,
)


async def test_a_flood_of_junk_usernames_does_not_unlock_the_victim() -> None:
    limits = RateLimits(20, 100)
    for _ in range(FAILED_LOGINS_ALLOWED):
        await limits.failed_logins.record("login:victim")
    assert await limits.failed_logins.retry_after("login:victim") > 0
    for i in range(MAX_TRACKED_KEYS + 1_000):
        await limits.failed_logins.record(f"login:junk{i}")
    assert await limits.failed_logins.retry_after("login:victim") > 0
    tracker = limits.failed_logins
    assert isinstance(tracker, LocalWindow)
    assert len(tracker.window) <= MAX_TRACKED_KEYS  # memory stays bounded


def test_a_full_window_forgets_one_key_at_a_time_the_quietest_first() -> None:
    window = SlidingWindow(3, 60.0, max_keys=4)
    for _ in range(3):
        window.record("locked")
    window.record("a")
    window.record("b")
    window.record("b")
    window.record("c")
    window.record("d")  # full: evicts "a" (one event, least recently used of the quiet)
    assert "a" not in window
    assert all(k in window for k in ("locked", "b", "c", "d"))
    assert window.retry_after("locked") > 0


def test_expired_keys_are_the_first_to_go() -> None:
    now = [1000.0]
    window = SlidingWindow(3, 60.0, clock=lambda: now[0], max_keys=2)
    window.record("old")
    window.record("old")
    now[0] += 61
    window.record("new")
    window.record("newer")  # "old" has no events left in its window
    assert "old" not in window
    assert "new" in window


def test_a_full_bucket_set_forgets_a_full_bucket_not_an_empty_one() -> None:
    now = [1000.0]
    bucket = TokenBucket(1.0, 5, clock=lambda: now[0], max_keys=ratelimit.EVICTION_SAMPLE)
    for _ in range(5):
        bucket.take("flooder")  # empty: this bucket is what limits someone
    assert bucket.take("flooder") > 0
    for i in range(ratelimit.EVICTION_SAMPLE * 4):
        bucket.take(f"other{i}")
    assert bucket.take("flooder") > 0
    assert len(bucket) <= ratelimit.EVICTION_SAMPLE
