"""Search on PostgreSQL reads each message's stored vector (0016_pg_search_vector).

A common word's search walks the messages newest first and tests each; parsing every
body again there (``to_tsvector`` per row) cost 280 ms for one room at 10M messages
(bench/datascale.py). These run against the real server: the stored vector follows
inserts and edits, keeps stems, prefixes and file names, and the statement's plan
never parses a body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from parley.store import Store, open_store
from tests.search_support import fill_rooms

BODIES = [
    "the pictures from friday",
    "lunch at noon",
    "see attached",
    "nothing to see",
]


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = await open_store("postgresql+asyncpg://" + pg_url.split("://", 1)[1])
    try:
        await fill_rooms(store, {1: BODIES}, {"see attached": "q3-report.pdf"})
        yield store
    finally:
        await store.close()


async def _bodies(store: Store, *terms: str) -> list[str]:
    found = await store.search.search(
        1, list(terms), room_id=None, author_id=None, limit=10, timeout_s=5
    )
    return sorted(m.body for m in found)


async def test_stems_prefixes_and_file_names_are_found(pg_store: Store) -> None:
    assert await _bodies(pg_store, "picture") == ["the pictures from friday"]
    assert await _bodies(pg_store, "fri") == ["the pictures from friday"]
    assert await _bodies(pg_store, "report") == ["see attached"]
    assert await _bodies(pg_store, "see") == ["nothing to see", "see attached"]
    assert await _bodies(pg_store, "see", "noth") == ["nothing to see"]


async def test_the_stored_vector_follows_an_edit(pg_store: Store) -> None:
    async with pg_store.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE messages SET body = 'dinner at eight' WHERE seq = 2"))
    assert await _bodies(pg_store, "lunch") == []
    assert await _bodies(pg_store, "dinner") == ["dinner at eight"]


async def test_the_plan_reads_the_stored_vector_and_parses_no_body(pg_store: Store) -> None:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "@@" in statement:
            statements.append((statement, params))

    event.listen(pg_store.engine.sync_engine, "before_cursor_execute", capture)
    try:
        assert await _bodies(pg_store, "lunch") == ["lunch at noon"]
    finally:
        event.remove(pg_store.engine.sync_engine, "before_cursor_execute", capture)
    [(statement, params)] = statements
    async with pg_store.engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        # Both plans PostgreSQL may choose: the GIN index, and the newest-first walk.
        for walk in ("off", "on"):
            await raw.execute(f"SET enable_bitmapscan = {walk}")
            plan = "\n".join(r[0] for r in await raw.fetch("EXPLAIN VERBOSE " + statement, *params))
            assert "search_vector" in plan
            assert "to_tsvector" not in plan, plan


async def test_every_search_is_planned_for_its_own_words(pg_store: Store) -> None:
    # The driver keeps statements prepared; from a statement's sixth run PostgreSQL may
    # plan it once for all parameters, and that generic plan took a common word's search
    # past its deadline at 10M messages. Each search must be planned for its words.
    for _ in range(8):
        assert await _bodies(pg_store, "lunch") == ["lunch at noon"]
    async with pg_store.engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        plans = await raw.fetch(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%@@%' AND statement NOT LIKE '%pg_prepared_statements%'"
        )
    assert plans, "the search statement was not prepared on this connection"
    assert all(p["generic_plans"] == 0 for p in plans), plans
