"""The coalescer behind read receipts: one send per key per interval, the latest value."""

from __future__ import annotations

import asyncio

from parley.domain.coalesce import Coalescer


async def test_offers_within_the_interval_make_one_send_with_the_latest_value() -> None:
    sent: list[tuple[object, object]] = []

    async def send(key: object, value: object) -> None:
        sent.append((key, value))

    coalescer = Coalescer(0.05)
    for value in range(5):
        coalescer.offer("a", value, send)
    coalescer.offer("b", "x", send)
    await asyncio.sleep(0.2)
    assert sorted(sent, key=str) == [("a", 4), ("b", "x")]
    coalescer.offer("a", 9, send)  # a new interval: sent again
    await asyncio.sleep(0.2)
    assert sent[-1] == ("a", 9)


async def test_a_failing_send_is_dropped_and_the_next_still_goes() -> None:
    sent: list[object] = []

    async def send(key: object, value: object) -> None:
        if value == "boom":
            raise RuntimeError("database down")
        sent.append(value)

    coalescer = Coalescer(0.01)
    coalescer.offer("a", "boom", send)
    await asyncio.sleep(0.1)
    coalescer.offer("a", "fine", send)
    await asyncio.sleep(0.1)
    assert sent == ["fine"]
