"""A row the database refuses fails only its own message (issue 18, item 6).

The edge (domain/numbers.py) keeps such values out; these tests go around it, as a bug
or a new field could, and feed the writer a batch with one row SQLite will not take.
"""

from __future__ import annotations

import asyncio

from parley.domain.models import AppendOutcome, NewMessage, User, utc_now
from parley.errors import BadInput
from parley.store import Store
from parley.store.writer_process import WriterProcess

# One past SQLite's INTEGER: sqlite3 cannot even bind it (OverflowError).
PAST_INT64 = 2**63


async def _user(store: Store, name: str) -> User:
    return await store.users.create(name, name, "not-a-real-hash", utc_now())


def _msg(room_id: int, author: User, body: str, reply_to: int | None = None) -> NewMessage:
    return NewMessage(room_id, author, body, body, utc_now(), reply_to=reply_to)


def _writer_pid(store: Store) -> int:
    writer = store.messages.writer._process
    assert isinstance(writer, WriterProcess) and writer._proc is not None
    return writer._proc.pid


async def test_one_refused_row_in_a_batch_fails_only_that_message(store: Store) -> None:
    ana = await _user(store, "ana")
    ben = await _user(store, "ben")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    await store.memberships.add_member(room.id, ben.id, "member", utc_now())
    await store.messages.append(_msg(room.id, ana, "warm-up"))
    pid = _writer_pid(store)
    batches = store.messages.writer.batches

    # Queued together, so they share one transaction: ben's 20 and ana's bad one.
    futures = [store.messages.append(_msg(room.id, ben, f"ben {i}")) for i in range(10)]
    futures.append(store.messages.append(_msg(room.id, ana, "bad", reply_to=PAST_INT64)))
    futures += [store.messages.append(_msg(room.id, ben, f"ben {i}")) for i in range(10, 20)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)

    assert store.messages.writer.batches == batches + 1  # one batch, as intended
    refused = outcomes.pop(10)
    assert isinstance(refused, BadInput) and refused.code == "message_refused"
    assert all(isinstance(o, AppendOutcome) for o in outcomes), outcomes
    stored = [o for o in outcomes if isinstance(o, AppendOutcome)]
    assert [o.message.body for o in stored] == [f"ben {i}" for i in range(20)]
    assert [o.message.seq for o in stored] == list(range(2, 22))  # in queue order, no gap
    page = await store.messages.page(room.id, before_seq=None, after_seq=None, limit=50)
    assert [m.body for m in page] == ["warm-up"] + [f"ben {i}" for i in range(20)]
    # The writer process lived through it: no restart, no batch lost to one.
    assert _writer_pid(store) == pid
    after = await store.messages.append(_msg(room.id, ben, "after"))
    assert after.message.seq == 22


async def test_a_batch_of_only_refused_rows_stores_nothing_and_keeps_the_writer(
    store: Store,
) -> None:
    ana = await _user(store, "ana")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    await store.messages.append(_msg(room.id, ana, "first"))
    pid = _writer_pid(store)
    outcomes = await asyncio.gather(
        *(store.messages.append(_msg(room.id, ana, f"bad {i}", PAST_INT64)) for i in range(3)),
        return_exceptions=True,
    )
    assert [getattr(o, "code", None) for o in outcomes] == ["message_refused"] * 3
    assert _writer_pid(store) == pid
    assert (await store.rooms.get(room.id)).last_seq == 1  # type: ignore[union-attr]
