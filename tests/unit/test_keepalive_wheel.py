"""The keepalive wheel: one timer for every connection's next ping, late by at most a tick."""

from __future__ import annotations

import asyncio

from parley.realtime import keepalive
from parley.realtime.keepalive import TICKS_PER_INTERVAL, wheel_for

INTERVAL = 0.4
TICK = INTERVAL / TICKS_PER_INTERVAL


class Peer:
    def __init__(self, loop: asyncio.AbstractEventLoop, fail: bool = False) -> None:
        self.loop = loop
        self.fail = fail
        self.due_at: list[float] = []

    def keepalive_due(self) -> None:
        self.due_at.append(self.loop.time())
        if self.fail:
            raise RuntimeError("this peer's ping failed")


async def test_each_peer_is_called_once_at_its_time_and_never_early() -> None:
    loop = asyncio.get_running_loop()
    wheel = wheel_for(loop, INTERVAL)
    start = loop.time()
    peers = {delay: Peer(loop) for delay in (0.0, 0.05, 0.12, 0.3)}
    for delay, peer in peers.items():
        wheel.add(peer, delay)
    assert len(wheel) == 4
    await asyncio.sleep(0.45)
    for delay, peer in peers.items():
        assert len(peer.due_at) == 1, f"the peer due after {delay}s was called once"
        late = peer.due_at[0] - start - delay
        assert -0.002 <= late <= TICK + 0.05, f"due after {delay}s, called {late:+.3f}s off"


async def test_a_discarded_peer_is_not_called_and_an_empty_wheel_leaves() -> None:
    loop = asyncio.get_running_loop()
    wheel = wheel_for(loop, INTERVAL)
    kept, dropped = Peer(loop), Peer(loop)
    wheel.add(kept, 0.05)
    wheel.discard(dropped, wheel.add(dropped, 0.05))
    await asyncio.sleep(0.15)
    assert len(kept.due_at) == 1 and dropped.due_at == []
    assert loop not in keepalive._wheels, "nothing due: no wheel and no timer left"
    again = wheel_for(loop, INTERVAL)
    assert again is not wheel
    late = Peer(loop)
    again.add(late, 0.0)
    await asyncio.sleep(0.1)
    assert len(late.due_at) == 1


async def test_one_failing_peer_does_not_stop_the_others() -> None:
    loop = asyncio.get_running_loop()
    wheel = wheel_for(loop, INTERVAL)
    failing, fine = Peer(loop, fail=True), Peer(loop)
    wheel.add(failing, 0.02)
    wheel.add(fine, 0.02)
    await asyncio.sleep(0.1)
    assert len(failing.due_at) == len(fine.due_at) == 1


async def test_servers_with_other_intervals_get_their_own_ticks() -> None:
    loop = asyncio.get_running_loop()
    assert wheel_for(loop, 20.0) is not wheel_for(loop, INTERVAL)
    assert wheel_for(loop, 20.0) is wheel_for(loop, 25.0), "both tick once a second"
    keepalive._wheels.pop(loop)  # made empty here, so never retired by themselves
