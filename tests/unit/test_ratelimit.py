"""Rate limiting rules: the contract's numbers, on a clock the test controls."""

from __future__ import annotations

from parley.domain.ratelimit import SlidingWindow, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_100_passes_then_the_101st_waits() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=20, burst=100, clock=clock)
    assert all(bucket.take("ana") == 0.0 for _ in range(100))
    wait = bucket.take("ana")
    assert 0 < wait <= 1 / 20


def test_tokens_come_back_at_the_sustained_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=20, burst=100, clock=clock)
    for _ in range(100):
        bucket.take("ana")
    clock.now += 1.0
    assert sum(bucket.take("ana") == 0.0 for _ in range(30)) == 20


def test_a_person_chatting_at_a_steady_pace_is_never_limited() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=20, burst=100, clock=clock)
    for _ in range(10_000):
        clock.now += 0.1  # ten messages a second, for over fifteen minutes
        assert bucket.take("ana") == 0.0


def test_refunded_tokens_do_not_count() -> None:
    bucket = TokenBucket(rate=20, burst=1, clock=FakeClock())
    assert bucket.take("ana") == 0.0
    bucket.refund("ana")
    assert bucket.take("ana") == 0.0


def test_rate_zero_turns_limiting_off() -> None:
    bucket = TokenBucket(rate=0, burst=1, clock=FakeClock())
    assert all(bucket.take("ana") == 0.0 for _ in range(1000))


def test_users_have_separate_buckets() -> None:
    bucket = TokenBucket(rate=1, burst=1, clock=FakeClock())
    assert bucket.take("ana") == 0.0
    assert bucket.take("ben") == 0.0
    assert bucket.take("ana") > 0


def test_ten_failures_in_fifteen_minutes_then_a_wait_until_the_oldest_expires() -> None:
    clock = FakeClock()
    window = SlidingWindow(allowed=10, window=900, clock=clock)
    for _ in range(10):
        assert window.retry_after("ana") == 0.0
        window.record("ana")
        clock.now += 10
    assert 0 < window.retry_after("ana") <= 900
    clock.now += 900
    assert window.retry_after("ana") == 0.0
