"""Issue 19 item 8: a search costs what the searcher can read, has a budget and a deadline.

Before: in a 300,000-message store a person in no rooms waited 390 ms for nothing (the
text index was read for every match in the store, then filtered by membership), and 20
searches at once held the database connections other requests needed. Now a person in
no room costs no text search, each search has a deadline enforced in the database, a
per-person budget, and only two run at once per process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.domain.models import utc_now
from parley.errors import SearchTimeout
from parley.store import Store, open_store
from tests.support import Person

SEARCHES_BURST = 10
BIG_ROOM = 20_000  # messages saying "hello" in a room the searcher is not in
SMALL_ROOM = 50


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Store, dict[str, int]]]:
    """A store where one room holds 20,000 "hello"s and another 50."""
    path = tmp_path / "search.db"
    store = await open_store(f"sqlite+aiosqlite:///{path}")
    now = utc_now()
    ids = {
        n: (await store.users.create(n, n, "unused", now)).id for n in ("big", "small", "lonely")
    }
    big = await store.rooms.create("big", "public", "", ids["big"], now)
    small = await store.rooms.create("small", "public", "", ids["small"], now)
    db = sqlite3.connect(path)
    for room, count, author in (
        (big.id, BIG_ROOM, ids["big"]),
        (small.id, SMALL_ROOM, ids["small"]),
    ):
        db.executemany(
            "INSERT INTO messages (room_id, seq, author_id, body, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(room, seq, author, f"hello number {seq}", now) for seq in range(1, count + 1)],
        )
        db.execute("UPDATE rooms SET last_seq = ? WHERE id = ?", (count, room))
    db.commit()
    db.close()
    yield store, ids
    await store.close()


async def test_a_person_in_no_rooms_costs_no_text_search(
    store: tuple[Store, dict[str, int]],
) -> None:
    found, ids = store
    # A deadline already past: any statement that reads the text index would be stopped.
    result = await found.search.search(
        ids["lonely"], ["hello"], room_id=None, author_id=None, limit=30, timeout_s=0.0
    )
    assert result == []


async def test_a_search_past_its_deadline_is_stopped_and_the_store_goes_on(
    store: tuple[Store, dict[str, int]],
) -> None:
    found, ids = store
    with pytest.raises(SearchTimeout):
        await found.search.search(
            ids["big"], ["hello"], room_id=None, author_id=None, limit=30, timeout_s=0.0
        )
    again = await found.search.search(
        ids["big"], ["hello"], room_id=None, author_id=None, limit=30, timeout_s=5.0
    )
    assert len(again) == 30


async def test_searching_has_a_budget(ana: Person) -> None:
    room = await ana.create_room()
    assert (await ana.post(room["id"], "needle in a haystack")).status_code == 201
    answers = await asyncio.gather(
        *(ana.http.get("/api/search", params={"q": "needle"}) for _ in range(SEARCHES_BURST + 5))
    )
    statuses = [r.status_code for r in answers]
    assert statuses.count(200) <= SEARCHES_BURST + 1  # the burst, and maybe one refilled
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
