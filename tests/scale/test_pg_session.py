"""Parley's PostgreSQL connections carry their session settings (store/database.py).

JIT is off: at 10M messages the room list's estimated cost passed jit_above_cost and
compiling it took 342 ms of a 380 ms statement (bench/datascale.py, plans).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from parley.store.database import create_engine
from parley.store.postgres_session import PG_SESSION_SETTINGS
from tests.scale.conftest import Backends

# Estimated far above jit_above_cost (100,000 by default): JIT would compile it. EXPLAIN
# without ANALYZE shows the compiling it would do, without running the statement.
COSTLY = (
    "SELECT sum(a.i * b.i) FROM generate_series(1, 10000000) AS a(i),"
    " generate_series(1, 1000) AS b(i) WHERE a.i = 1 AND b.i = 1"
)


async def test_connections_run_without_jit(backends: Backends) -> None:
    url = "postgresql+asyncpg://" + backends.database_url.split("://", 1)[1]
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert PG_SESSION_SETTINGS["jit"] == "off"
            assert (await conn.execute(sa.text("SHOW jit"))).scalar() == "off"
            plan = (await conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {COSTLY}"))).scalar()
            top = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            assert top["Plan"]["Total Cost"] > 100_000
            assert "JIT" not in top
    finally:
        await engine.dispose()
