"""Dead peers are found by the WebSocket keepalive: a client that stops answering pings
(it reads nothing at the TCP level) is dropped within the ping interval plus timeout, its
presence goes offline, and its socket is released. Live clients are not disturbed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.reliability.probes import established_to, is_reset, open_raw_ws
from tests.support import sign_up

pytestmark = pytest.mark.reliability

PING_S = 1.0
# Long enough that a live client on a loaded machine answers in time.
PONG_TIMEOUT_S = 2.0
# Interval plus timeout, plus generous slack for a loaded machine.
DETECTION_BOUND_S = PING_S + PONG_TIMEOUT_S + 8.0


async def test_a_peer_that_stops_answering_pings_is_dropped_and_goes_offline(
    launch: Any,
) -> None:
    server = launch(
        env={"PARLEY_WS_PING_INTERVAL": str(PING_S), "PARLEY_WS_PING_TIMEOUT": str(PONG_TIMEOUT_S)}
    )
    ana, ben = await sign_up(server.url), await sign_up(server.url)
    try:
        room = await ana.create_room("heartbeat")
        r = await ben.http.post(f"/api/rooms/{room['id']}/join")
        assert r.status_code == 200
        async with ana.socket() as a:
            before = established_to(server.port)
            raw = open_raw_ws(server.port, ben.token)
            try:
                await a.expect("presence", user_id=ben.id, status="online", timeout=20)
                went_silent = time.monotonic()
                await a.expect(
                    "presence", user_id=ben.id, status="offline", timeout=DETECTION_BOUND_S
                )
                detected = time.monotonic() - went_silent
                assert is_reset(raw)
            finally:
                raw.close()
            assert established_to(server.port) <= before
            # Ana answered every ping meanwhile (her client reads): still connected.
            ack = await a.send_message(room["id"], "still here after many pings")
            assert ack["message"]["seq"] == 1
        print(
            f"\nping every {PING_S}s, timeout {PONG_TIMEOUT_S}s: silent peer dropped and offline "
            f"after {detected:.1f}s; live client kept"
        )
    finally:
        for person in (ana, ben):
            await person.http.aclose()
