"""Group commit against a real SQLite file: seq, idempotency and membership rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.domain.models import NewMessage, User, utc_now
from parley.errors import NotFound
from parley.store import Store, open_store


async def _user(store: Store, name: str) -> User:
    return await store.users.create(name, name, "not-a-real-hash", utc_now())


def _msg(room_id: int, author: User, body: str, client_id: str | None = None) -> NewMessage:
    return NewMessage(
        room_id=room_id, author=author, body=body, client_id=client_id, created_at=utc_now()
    )


async def test_messages_queued_together_get_contiguous_seqs_in_queue_order(store: Store) -> None:
    ana = await _user(store, "ana")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    futures = [store.messages.append(_msg(room.id, ana, f"m{i}")) for i in range(50)]
    outcomes = await asyncio.gather(*futures)
    assert [o.message.seq for o in outcomes] == list(range(1, 51))
    assert (await store.rooms.get(room.id)).last_seq == 50  # type: ignore[union-attr]
    assert store.messages.writer.batches < 50  # they were grouped


async def test_a_repeated_client_id_in_one_batch_makes_one_message(store: Store) -> None:
    ana = await _user(store, "ana")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    first, second = await asyncio.gather(
        store.messages.append(_msg(room.id, ana, "x", "same")),
        store.messages.append(_msg(room.id, ana, "x", "same")),
    )
    assert first.created
    assert not second.created
    assert first.message.id == second.message.id
    third = await store.messages.append(_msg(room.id, ana, "x", "same"))
    assert not third.created
    assert third.message.seq == 1


async def test_a_non_member_is_refused_without_disturbing_the_others(store: Store) -> None:
    ana = await _user(store, "ana")
    ben = await _user(store, "ben")
    room = await store.rooms.create("r", "private", "", ana.id, utc_now())
    ok, refused, ok2 = await asyncio.gather(
        store.messages.append(_msg(room.id, ana, "1")),
        store.messages.append(_msg(room.id, ben, "intruder")),
        store.messages.append(_msg(room.id, ana, "2")),
        return_exceptions=True,
    )
    assert isinstance(refused, NotFound)
    assert [ok.message.seq, ok2.message.seq] == [1, 2]  # type: ignore[union-attr]


async def test_closing_stores_what_was_already_queued(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'close.db'}"
    store = await open_store(url)
    ana = await _user(store, "ana")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    futures = [store.messages.append(_msg(room.id, ana, f"m{i}")) for i in range(20)]
    await store.close()
    assert all(f.done() and not f.exception() for f in futures)
    reopened = await open_store(url)
    page = await reopened.messages.page(room.id, before_seq=None, after_seq=None, limit=50)
    assert len(page) == 20
    await reopened.close()


async def test_one_batch_over_many_rooms_gives_each_room_its_own_contiguous_seqs(
    store: Store,
) -> None:
    ana = await _user(store, "ana")
    rooms = [await store.rooms.create(f"r{i}", "public", "", ana.id, utc_now()) for i in range(3)]
    await store.messages.append(_msg(rooms[1].id, ana, "earlier"))
    futures = [store.messages.append(_msg(rooms[i % 3].id, ana, f"m{i}")) for i in range(30)]
    outcomes = await asyncio.gather(*futures)
    by_room: dict[int, list[int]] = {}
    for outcome in outcomes:
        by_room.setdefault(outcome.message.room_id, []).append(outcome.message.seq)
    assert by_room[rooms[0].id] == list(range(1, 11))
    assert by_room[rooms[1].id] == list(range(2, 12))
    assert by_room[rooms[2].id] == list(range(1, 11))
    ids = [o.message.id for o in outcomes]
    assert len(set(ids)) == 30
    for outcome in outcomes:  # each id names the message it was returned with
        page = await store.messages.page(
            outcome.message.room_id,
            before_seq=outcome.message.seq + 1,
            after_seq=outcome.message.seq - 1,
            limit=1,
        )
        assert page[0].id == outcome.message.id
        assert page[0].body == outcome.message.body
