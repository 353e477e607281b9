"""Search's cost must not grow with the history (issue 26): the plan walks the text
index newest first and stops, and only the newest RANK_WINDOW matches are ranked."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from parley.store import Store
from parley.store.search import RANK_WINDOW

NOW = "2026-01-01T00:00:00.000000Z"


async def _fill(store: Store, bodies: list[str]) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO users (id, username, username_key, display_name, password_hash,"
                " created_at) VALUES (1, 'ana', 'ana', 'Ana', 'x', :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO rooms (id, name, visibility, created_at, last_seq)"
                " VALUES (1, 'general', 'public', :now, :n)"
            ),
            {"now": NOW, "n": len(bodies)},
        )
        await conn.execute(
            sa.text("INSERT INTO memberships (room_id, user_id, joined_at) VALUES (1, 1, :now)"),
            {"now": NOW},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO messages (room_id, seq, author_id, body, created_at)"
                " VALUES (1, :seq, 1, :body, :now)"
            ),
            [{"seq": i + 1, "body": b, "now": NOW} for i, b in enumerate(bodies)],
        )


async def test_the_search_plan_stops_walking_the_text_index_at_the_window(store: Store) -> None:
    await _fill(store, ["hello world"] * 20)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "messages_fts MATCH" in statement:
            statements.append((statement, params))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    found = await store.search.search(
        1, ["hello"], room_id=None, author_id=None, limit=5, timeout_s=5
    )
    assert len(found) == 5
    [(statement, params)] = statements
    async with store.engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        cursor = await raw.execute("EXPLAIN QUERY PLAN " + statement, params)
        plan = [row[3] for row in await cursor.fetchall()]
    # The text index is walked inside the subquery, and nothing is sorted before the
    # walk's LIMIT: a temporary B-tree would mean every match is read and sorted.
    walk = plan.index(next(line for line in plan if line.startswith("SCAN messages_fts")))
    outer = plan.index(next(line for line in plan if line.startswith("SCAN recent")))
    assert walk < outer
    assert not any("TEMP B-TREE" in line for line in plan[walk:outer]), plan


async def test_only_the_newest_matches_are_ranked(store: Store) -> None:
    # The oldest message is the best match by far, but RANK_WINDOW newer ones follow it.
    bodies = ["kiwi kiwi kiwi kiwi"] + ["kiwi and a long tail of other words"] * RANK_WINDOW
    await _fill(store, bodies)
    found = await store.search.search(
        1, ["kiwi"], room_id=None, author_id=None, limit=3, timeout_s=5
    )
    assert [m.seq for m in found] != [1]
    assert all(m.seq > 1 for m in found)
    assert len(found) == 3
