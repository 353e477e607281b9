"""Group commit on PostgreSQL, against the real server, with many authors in one batch as
under load: repeated client_ids resolve to their own author's message, memberships and
archived rooms are checked per (room, author) pair, a batch's statements keep one
text whatever its size and are planned for each batch's own keys, a value PostgreSQL
refuses fails only its own message, and the batches run in a writer process of their own.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from parley.domain.models import AppendOutcome, NewMessage, User, utc_now
from parley.errors import BadInput, Forbidden, NotFound
from parley.store import Store, open_store
from parley.store.postgres_batch import STORED_BY_CLIENT_ID, write_batch
from parley.store.postgres_session import PG_SESSION_SETTINGS, WRITER_SESSION_SETTINGS

AUTHORS = 20


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = await open_store("postgresql+asyncpg://" + pg_url.split("://", 1)[1])
    try:
        yield store
    finally:
        await store.close()


def _msg(room_id: int, author: User, body: str, client_id: str) -> NewMessage:
    return NewMessage(room_id, author, body, client_id, utc_now())


async def _room_of(store: Store, people: list[User]) -> int:
    room = await store.rooms.create("r", "public", "", people[0].id, utc_now())
    for person in people[1:]:
        await store.memberships.add_member(room.id, person.id, "member", utc_now())
    return room.id


async def test_repeats_from_many_authors_in_one_batch_resolve_to_their_messages(
    pg_store: Store,
) -> None:
    people = [
        await pg_store.users.create(f"p{i}", f"p{i}", "not-a-real-hash", utc_now())
        for i in range(AUTHORS)
    ]
    room_id = await _room_of(pg_store, people)
    sent = [_msg(room_id, p, f"{p.username} {n}", f"c{n}") for p in people for n in range(5)]
    first = await asyncio.gather(*(pg_store.messages.append(m) for m in sent))
    assert all(o.created for o in first)

    again = await asyncio.gather(*(pg_store.messages.append(m) for m in sent))
    assert not any(o.created for o in again)
    assert [o.message.id for o in again] == [o.message.id for o in first]
    assert [o.message.body for o in again] == [m.body for m in sent]
    assert (await pg_store.rooms.get(room_id)).last_seq == len(sent)  # type: ignore[union-attr]


async def test_another_authors_client_id_is_not_a_repeat(pg_store: Store) -> None:
    ana = await pg_store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    ben = await pg_store.users.create("ben", "ben", "not-a-real-hash", utc_now())
    room_id = await _room_of(pg_store, [ana, ben])
    bens = await pg_store.messages.append(_msg(room_id, ben, "ben's x", "x"))

    # In one batch: Ana's "x" (Ben's key, not hers), Ben's "y", and Ben's "x" again.
    anas_x, bens_y, bens_x = await asyncio.gather(
        pg_store.messages.append(_msg(room_id, ana, "ana's x", "x")),
        pg_store.messages.append(_msg(room_id, ben, "ben's y", "y")),
        pg_store.messages.append(_msg(room_id, ben, "ben's x again", "x")),
    )
    assert anas_x.created and anas_x.message.body == "ana's x"
    assert bens_y.created and bens_y.message.body == "ben's y"
    assert not bens_x.created and bens_x.message.id == bens.message.id
    assert bens_x.message.body == "ben's x"


async def test_a_non_member_and_an_archived_room_fail_alone(pg_store: Store) -> None:
    ana = await pg_store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    eve = await pg_store.users.create("eve", "eve", "not-a-real-hash", utc_now())
    open_room = await _room_of(pg_store, [ana])
    archived_room = await _room_of(pg_store, [ana])
    await pg_store.room_admin.set_archived(archived_room, utc_now())

    ok, intruder, archived, ok_too = await asyncio.gather(
        pg_store.messages.append(_msg(open_room, ana, "one", "1")),
        pg_store.messages.append(_msg(open_room, eve, "let me in", "2")),
        pg_store.messages.append(_msg(archived_room, ana, "too late", "3")),
        pg_store.messages.append(_msg(open_room, ana, "two", "4")),
        return_exceptions=True,
    )
    assert isinstance(intruder, NotFound)
    assert isinstance(archived, Forbidden) and archived.code == "room_archived"
    assert [ok.message.seq, ok_too.message.seq] == [1, 2]  # type: ignore[union-attr]


async def test_batches_of_any_size_run_the_same_statements(pg_store: Store) -> None:
    """A statement whose text changes with the batch's size is parsed and planned again
    for every size (and crowds the driver's prepared-statement cache): at 2,000 messages
    a second that cost a p99 of 33-61 ms, against 18 ms with the same texts."""
    people = [
        await pg_store.users.create(f"p{i}", f"p{i}", "not-a-real-hash", utc_now())
        for i in range(AUTHORS)
    ]
    room_ids = [await _room_of(pg_store, people) for _ in range(3)]
    texts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        texts.append(statement)

    # The batch as the writer process runs it, here on the test's own connection, where
    # its statements can be seen.
    event.listen(pg_store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for size in (1, 7, 60):
            batch = [
                _msg(room_ids[n % 3], people[n % AUTHORS], f"m{n}", f"{size}-{n}")
                for n in range(size)
            ]
            async with pg_store.engine.begin() as conn:
                written = await write_batch(conn, batch)
            assert len(written.ids) == size
    finally:
        event.remove(pg_store.engine.sync_engine, "before_cursor_execute", seen)
    inserts = {t for t in texts if t.startswith("INSERT INTO messages")}
    assert len(inserts) == 1
    # Every statement of the batches, whatever their sizes, is one of a few texts.
    assert len(set(texts)) <= 6


async def test_batches_are_stored_by_a_writer_process_that_a_kill_does_not_stop(
    pg_store: Store,
) -> None:
    """The batch's round trips run in a child process (parley.store.postgres_writer),
    away from the server's busy event loop. Killed, it is replaced on the next batch,
    and what was acked before is all there."""
    ana = await pg_store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    room_id = await _room_of(pg_store, [ana])
    before = await asyncio.gather(
        *(pg_store.messages.append(_msg(room_id, ana, f"m{n}", f"a{n}")) for n in range(30))
    )
    writer = pg_store.messages.writer._process
    assert writer._proc is not None and writer._proc.pid != os.getpid()
    # The database's address (a password, maybe) is not on its command line.
    cmdline = await asyncio.to_thread(Path(f"/proc/{writer._proc.pid}/cmdline").read_bytes)
    assert b"postgresql" not in cmdline
    killed = writer._proc.pid
    os.kill(killed, signal.SIGKILL)
    await writer._proc.wait()

    after = await pg_store.messages.append(_msg(room_id, ana, "after", "b"))
    assert writer._proc is not None and writer._proc.pid != killed
    assert after.created and after.message.seq == 31
    page = await pg_store.messages.page(room_id, before_seq=None, after_seq=None, limit=50)
    assert [m.body for m in page] == [o.message.body for o in before] + ["after"]


async def test_the_client_id_lookup_stays_an_index_probe_as_the_history_grows(
    pg_store: Store, pg_url: str
) -> None:
    """The writer's statements are prepared once and run for its connection's life. By
    default PostgreSQL may settle on one generic plan from a statement's sixth run:
    planned while the table was small, the lookup of a batch's client_ids became a
    sequential scan of all messages and stayed one (18 ms at 100,000 messages, growing).
    The writer's session plans each run for its own arrays (WRITER_SESSION_SETTINGS)."""
    ana = await pg_store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    room_id = await _room_of(pg_store, [ana])
    # The statement as the driver prepares it (its $1/$2 placeholders), prepared by name
    # so that EXPLAIN EXECUTE shows the plan the session would run, cached or not.
    lookup = str(STORED_BY_CLIENT_ID.compile(dialect=pg_store.engine.dialect))
    run = f"EXECUTE lookup('{{{ana.id},{ana.id}}}', '{{new-1,new-2}}')"

    async def plan_after_growth(settings: dict[str, str]) -> str:
        conn = await asyncpg.connect(pg_url, server_settings=settings)
        try:
            await conn.execute(f"PREPARE lookup(INTEGER[], VARCHAR[]) AS {lookup}")
            for _ in range(8):  # past the runs after which a generic plan may be kept
                assert await conn.fetch(run) == []
            # A month of history arrives, and no ANALYZE (autovacuum may be off, or not yet).
            await conn.execute(
                "INSERT INTO messages (room_id, seq, author_id, body, created_at, client_id) "
                "SELECT $1, g, $2, 'hello', '2026-01-01', 'c' || g "
                "FROM generate_series(1, 20000) AS g",
                room_id,
                ana.id,
            )
            plan = "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + run))
            await conn.execute("DELETE FROM messages")
            return plan
        finally:
            await conn.close()

    # The trap is real: without the writer's setting the cached plan scans every message.
    assert "Seq Scan" in await plan_after_growth(dict(PG_SESSION_SETTINGS))
    writers = await plan_after_growth(dict(WRITER_SESSION_SETTINGS))
    assert "Seq Scan" not in writers and "uq_messages_author_client" in writers, writers


async def test_a_value_postgresql_cannot_take_fails_only_its_own_message(
    pg_store: Store,
) -> None:
    """Ids are 32-bit INTEGERs on PostgreSQL. The edge keeps bigger ones out now, but the
    writer does not lean on it: one such reply_to in a batch made the driver refuse the
    whole batch, and every other message in it failed as "unavailable"."""
    ana = await pg_store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    room_id = await _room_of(pg_store, [ana])
    await pg_store.messages.append(_msg(room_id, ana, "warm-up", "w"))
    past_int32 = 2**40
    futures = [pg_store.messages.append(_msg(room_id, ana, f"m{n}", f"a{n}")) for n in range(5)]
    futures.append(
        pg_store.messages.append(
            NewMessage(room_id, ana, "bad", "bad", utc_now(), reply_to=past_int32)
        )
    )
    futures += [pg_store.messages.append(_msg(room_id, ana, f"n{n}", f"b{n}")) for n in range(5)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)

    refused = outcomes.pop(5)
    assert isinstance(refused, BadInput) and refused.code == "message_refused"
    assert all(isinstance(o, AppendOutcome) for o in outcomes), outcomes
    page = await pg_store.messages.page(room_id, before_seq=None, after_seq=None, limit=50)
    assert [m.body for m in page] == ["warm-up"] + [f"m{n}" for n in range(5)] + [
        f"n{n}" for n in range(5)
    ]
