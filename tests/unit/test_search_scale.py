"""Search's cost must not grow with the history (issue 26): the text index is walked
newest first and stops at the window, the room condition is part of the text query, a
common word is walked whole rather than gathered as a prefix, and only the newest
RANK_WINDOW matches are ranked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from parley.store import Store
from parley.store.search import COMMON_WORD_MATCHES, RANK_WINDOW, fts_query
from tests.search_support import fill_rooms


def _capture(store: Store) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "messages_fts MATCH" in statement and "JOIN messages" in statement:
            statements.append((statement, params))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    return statements


async def test_the_search_plan_stops_walking_the_text_index_at_the_window(store: Store) -> None:
    await fill_rooms(store, {1: ["hello world"] * 20})
    statements = _capture(store)
    found = await store.search.search(
        1, ["hello"], room_id=None, author_id=None, limit=5, timeout_s=5
    )
    assert len(found) == 5
    [(statement, params)] = statements
    async with store.engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        cursor = await raw.execute("EXPLAIN QUERY PLAN " + statement, params)
        plan = [row[3] for row in await cursor.fetchall()]
    # The text index is the outer loop and nothing is sorted: a temporary B-tree would
    # mean every match is read and sorted before the LIMIT.
    assert plan[0].startswith("SCAN messages_fts"), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan


async def test_a_common_word_in_a_small_room_is_found_through_the_rooms_postings(
    store: Store,
) -> None:
    # Room 1 is busy with the word; room 2 has two messages with it among its own.
    await fill_rooms(
        store,
        {
            1: ["the busy room says the word"] * 3000,
            2: ["the quiet room", "nothing here", "the end of the quiet room"],
        },
    )
    statements = _capture(store)
    found = await store.search.search(1, ["the"], room_id=2, author_id=None, limit=10, timeout_s=5)
    assert sorted(m.body for m in found) == ["the end of the quiet room", "the quiet room"]
    [(_, params)] = statements
    # The room is in the text query (FTS5 intersects the postings), and "the", found in
    # more than COMMON_WORD_MATCHES messages, is walked whole, not gathered as a prefix.
    assert params[0] == '{body file_names} : ("the") AND room : ("2")'


async def test_a_common_word_is_matched_whole_and_a_rare_one_as_a_prefix(store: Store) -> None:
    await fill_rooms(store, {1: ["kiwi"] * COMMON_WORD_MATCHES + ["kiwifruit salad", "zebrafish"]})
    common = await store.search.search(
        1, ["kiwi"], room_id=None, author_id=None, limit=5, timeout_s=5
    )
    assert {m.body for m in common} == {"kiwi"}
    rare = await store.search.search(
        1, ["zebra"], room_id=None, author_id=None, limit=5, timeout_s=5
    )
    assert [m.body for m in rare] == ["zebrafish"]


def test_the_text_query_form() -> None:
    assert fts_query(["deploy", "q3", "the"], {"the"}, [7, 3]) == (
        '{body file_names} : ("deploy"* "q3" "the") AND room : ("3" OR "7")'
    )
    assert fts_query(['say "hi"'], set(), None) == '{body file_names} : ("say ""hi"""*)'


async def test_rooms_holding_much_of_the_history_are_checked_per_message(store: Store) -> None:
    # Room 2 holds half the messages: the word's postings are walked, the room checked on
    # each message (no room postings in the text query); a quiet room's are intersected.
    await fill_rooms(store, {1: ["kiwi one"] * 20, 2: ["kiwi two"] * 20, 3: ["kiwi three"]})
    statements = _capture(store)
    for room_id, expected in ((2, "kiwi two"), (3, "kiwi three")):
        found = await store.search.search(
            1, ["kiwi"], room_id=room_id, author_id=None, limit=50, timeout_s=5
        )
        assert {m.body for m in found} == {expected}
    assert [params[0] for _, params in statements] == [
        '{body file_names} : ("kiwi"*)',
        '{body file_names} : ("kiwi"*) AND room : ("3")',
    ]


async def test_only_the_newest_matches_are_ranked(store: Store) -> None:
    # The oldest message is the best match by far, but RANK_WINDOW newer ones follow it.
    bodies = ["kiwi kiwi kiwi kiwi"] + ["kiwi and a long tail of other words"] * RANK_WINDOW
    await fill_rooms(store, {1: bodies})
    found = await store.search.search(
        1, ["kiwi"], room_id=None, author_id=None, limit=3, timeout_s=5
    )
    assert all(m.seq > 1 for m in found)
    assert len(found) == 3
