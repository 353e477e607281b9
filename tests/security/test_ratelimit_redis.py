"""Limits shared through Redis: two processes' limiters meet one count.

Each RedisRateLimits below stands for one Parley process; they share a real
redis-server started for this module on a free loopback port.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from parley.domain import ratelimit
from parley.ratelimit_redis import RedisRateLimits, open_redis_limits
from tests.support import free_port

REDIS_START_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (apt-get install redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while (
        subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
        ).stdout.strip()
        != b"PONG"
    ):
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
async def two_processes(redis_url: str) -> AsyncIterator[tuple[RedisRateLimits, RedisRateLimits]]:
    client = aioredis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    a = open_redis_limits(redis_url, 20, 100)
    b = open_redis_limits(redis_url, 20, 100)
    yield a, b
    await a.close()
    await b.close()


async def test_failed_logins_on_two_processes_add_up_to_one_lock(
    two_processes: tuple[RedisRateLimits, RedisRateLimits],
) -> None:
    a, b = two_processes
    for i in range(ratelimit.FAILED_LOGINS_ALLOWED):
        side = a if i % 2 else b
        assert await side.failed_logins.retry_after("login:ana") == 0.0
        await side.failed_logins.record("login:ana")
    wait_a = await a.failed_logins.retry_after("login:ana")
    wait_b = await b.failed_logins.retry_after("login:ana")
    assert ratelimit.FAILED_LOGIN_WINDOW_S - 60 < wait_a <= ratelimit.FAILED_LOGIN_WINDOW_S
    assert wait_b > 0
    assert await a.failed_logins.retry_after("login:ben") == 0.0
    await b.failed_logins.reset("login:ana")
    assert await a.failed_logins.retry_after("login:ana") == 0.0


async def test_a_flood_split_over_two_processes_meets_one_bucket(
    two_processes: tuple[RedisRateLimits, RedisRateLimits],
) -> None:
    a, b = two_processes
    waits = await asyncio.gather(*((a if i % 2 else b).sends.take("7") for i in range(150)))
    allowed = sum(1 for w in waits if w == 0.0)
    # The burst of 100, plus what trickled back at 20/s while the calls ran.
    assert 100 <= allowed < 130
    assert all(0 < w <= 1 for w in waits if w)
    assert await a.sends.take("8") == 0.0  # another user has their own bucket


async def test_a_refund_gives_a_token_back_across_processes(
    redis_url: str,
) -> None:
    a = open_redis_limits(redis_url, 0.001, 1)
    b = open_redis_limits(redis_url, 0.001, 1)
    try:
        assert await a.sends.take("refund-user") == 0.0
        assert await b.sends.take("refund-user") > 0
        await b.sends.refund("refund-user")
        assert await a.sends.take("refund-user") == 0.0
    finally:
        await a.close()
        await b.close()


async def test_address_backoff_is_shared_and_grows(
    two_processes: tuple[RedisRateLimits, RedisRateLimits],
) -> None:
    a, b = two_processes
    ip = "203.0.113.9"
    for i in range(ratelimit.ADDRESS_FREE_FAILURES):
        assert await (a if i % 2 else b).login_addresses.retry_after(ip) == 0.0
        await (b if i % 2 else a).login_addresses.record(ip)
    first = await a.login_addresses.retry_after(ip)
    assert 0 < first <= ratelimit.ADDRESS_BASE_DELAY_S
    await b.login_addresses.record(ip)
    second = await a.login_addresses.retry_after(ip)
    assert second > first
    assert await b.login_addresses.retry_after("198.51.100.1") == 0.0


async def test_registrations_per_address_are_shared(
    two_processes: tuple[RedisRateLimits, RedisRateLimits],
) -> None:
    a, b = two_processes
    for i in range(ratelimit.REGISTRATIONS_PER_HOUR):
        side = a if i % 2 else b
        assert await side.registrations.retry_after("198.51.100.50") == 0.0
        await side.registrations.record("198.51.100.50")
    assert await a.registrations.retry_after("198.51.100.50") > 0
    assert await b.registrations.retry_after("198.51.100.50") > 0


async def test_send_limiting_off_means_off(redis_url: str) -> None:
    limits = open_redis_limits(redis_url, 0, 1)
    try:
        assert all([await limits.sends.take("9") == 0.0 for _ in range(50)])
    finally:
        await limits.close()


async def test_sends_go_on_while_redis_is_unreachable_and_a_flood_still_meets_a_limit() -> None:
    # Found by bench/multihost.py: during a Redis restart every send was refused with
    # internal_error ("The message was not stored"), though the database was up.
    limits = open_redis_limits(f"redis://127.0.0.1:{free_port()}/0", 20, 100)
    try:
        began = time.monotonic()
        waits = [await limits.sends.take("user:7") for _ in range(200)]
        refilled = (time.monotonic() - began) * 20  # tokens that came back meanwhile
        assert waits[:100] == [0.0] * 100
        # Past the burst, this process's own bucket holds.
        assert waits.count(0.0) <= 100 + refilled + 1
        assert max(waits) > 0
        await limits.sends.refund("user:7")
        assert await limits.sends.take("user:7") == 0.0
    finally:
        await limits.close()


async def test_sign_ups_and_sign_ins_go_on_while_redis_is_unreachable_and_still_meet_limits() -> (
    None
):
    # Found by bench/multihost.py: during a Redis restart every sign-up and every wrong
    # password answered internal_error instead of being counted.
    limits = open_redis_limits(f"redis://127.0.0.1:{free_port()}/0", 20, 100)
    address, account = "198.51.100.77", "user:9"
    try:
        for _ in range(ratelimit.REGISTRATIONS_PER_HOUR):
            assert await limits.registrations.retry_after(address) == 0.0
            await limits.registrations.record(address)
        assert await limits.registrations.retry_after(address) > 0

        for _ in range(ratelimit.FAILED_LOGINS_ALLOWED):
            assert await limits.failed_logins.retry_after(account) == 0.0
            await limits.failed_logins.record(account)
        assert await limits.failed_logins.retry_after(account) > 0
        await limits.failed_logins.reset(account)  # a right password, as sign-in does
        assert await limits.failed_logins.retry_after(account) == 0.0

        for _ in range(ratelimit.ADDRESS_FREE_FAILURES + 1):
            await limits.login_addresses.record(address)
        assert await limits.login_addresses.retry_after(address) > 0
        assert await limits.login_addresses.retry_after("198.51.100.78") == 0.0
    finally:
        await limits.close()
