"""A node cut off in the middle of a transaction must not hold a room's writes for long.

Found by bench/multihost.py: node 3's link went down while its writer held a room's
seq row lock, and every other node's messages to that room waited the whole 30 s of the
partition. Parley's PostgreSQL connections ask the server to end a transaction left
idle for PG_IDLE_IN_TRANSACTION_TIMEOUT_MS; this runs that against the real server.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from parley.store.database import create_engine
from parley.store.postgres_session import PG_IDLE_IN_TRANSACTION_TIMEOUT_MS
from tests.scale.conftest import Backends

LIMIT_S = PG_IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000


async def test_a_lock_held_by_a_silent_connection_is_released_after_the_idle_timeout(
    backends: Backends,
) -> None:
    url = "postgresql+asyncpg://" + backends.database_url.split("://", 1)[1]
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("CREATE TABLE IF NOT EXISTS lock_probe (id int primary key)")
            )
            await conn.execute(sa.text("INSERT INTO lock_probe VALUES (1) ON CONFLICT DO NOTHING"))
        silent = await engine.connect()
        await silent.begin()
        # The cut-off node: it has the row and then says nothing more.
        await silent.execute(sa.text("SELECT id FROM lock_probe WHERE id = 1 FOR UPDATE"))

        began = time.monotonic()
        async with engine.begin() as other:
            await asyncio.wait_for(
                other.execute(sa.text("UPDATE lock_probe SET id = 1 WHERE id = 1")),
                timeout=LIMIT_S * 3,
            )
        waited = time.monotonic() - began
        assert LIMIT_S * 0.8 <= waited <= LIMIT_S * 2.5

        # When it speaks again, its transaction is gone: nothing it does next is committed.
        failed = False
        try:
            await silent.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            failed = True
        assert failed
        await silent.invalidate()
    finally:
        await engine.dispose()
