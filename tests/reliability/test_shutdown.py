"""SIGTERM while clients send: every connection is closed with 1001, the process exits 0,
nothing acked is lost, and the clients resume on the restarted server with nothing missed."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from tests.reliability.clients import ResilientClient, assert_exactly_once, people_in_rooms

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

CLIENTS = 10
MESSAGES_EACH = 60
DEADLINE_S = 120.0
GOING_AWAY = 1001


async def test_sigterm_while_clients_send_closes_with_1001_exits_0_and_loses_nothing(
    launch: Any,
) -> None:
    server = launch()
    people, rooms = await people_in_rooms(server.url, CLIENTS, 2)
    clients = [ResilientClient(p, rooms, rooms[i % 2], MESSAGES_EACH) for i, p in enumerate(people)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(c.run(stop)) for c in clients]
    try:
        # Wait until every client is connected and sending, then stop the server mid-flow.
        await asyncio.wait_for(asyncio.gather(*(c.first_ack.wait() for c in clients)), 60)
        await asyncio.sleep(random.uniform(0.0, 0.1))
        acked_at_term = sum(len(c.record.acked) for c in clients)
        exit_code = await asyncio.to_thread(server.terminate)
        assert exit_code == 0
        codes = [code for c in clients for code in c.record.close_codes]
        assert len(codes) >= CLIENTS
        assert set(codes) == {GOING_AWAY}, codes

        await asyncio.to_thread(launch, data_dir=server.data_dir, port=server.port)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*runs), DEADLINE_S)
        for client in clients:
            await client.catch_up()
        stored = await assert_exactly_once(clients, people[0], rooms, CLIENTS * MESSAGES_EACH)
        print(
            f"\nSIGTERM with {acked_at_term} acked: exit 0, {len(codes)} closes all 1001; "
            f"after restart {stored} messages stored once each, every client holds all"
        )
    finally:
        stop.set()
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        for person in people:
            await person.http.aclose()
