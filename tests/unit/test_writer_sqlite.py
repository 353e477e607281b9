"""The SQLite batch path against a real file: every rule of a batch, in one batch.

The group committer stores SQLite batches with raw statements on the connection's
thread; these tests check that it keeps the rules of the SQLAlchemy path.
"""

from __future__ import annotations

import asyncio

from parley.domain.models import AppendOutcome, File, FileRecord, NewMessage, User, utc_now
from parley.errors import BadInput, Forbidden, NotFound
from parley.store import Store


async def _user(store: Store, name: str) -> User:
    return await store.users.create(name, name, "not-a-real-hash", utc_now())


async def _file(store: Store, file_id: str, uploader: User) -> File:
    file = File(file_id, f"{file_id}.txt", 3, "text/plain", f"/api/files/{file_id}/content")
    await store.files.insert(FileRecord(file, uploader.id, "k" * 64, None, utc_now()))
    return file


def _msg(
    room_id: int, author: User, body: str, client_id: str | None = None, **extra: object
) -> NewMessage:
    return NewMessage(room_id, author, body, client_id, utc_now(), **extra)  # type: ignore[arg-type]


async def test_a_mixed_batch_applies_each_rule_to_its_own_item(store: Store) -> None:
    ana, ben, eve = [await _user(store, n) for n in ("ana", "ben", "eve")]
    room = await store.rooms.create("r", "private", "", ana.id, utc_now())
    await store.memberships.add_member(room.id, ben.id, "member", utc_now())
    archived = await store.rooms.create("old", "public", "", ana.id, utc_now())
    await store.room_admin.set_archived(archived.id, utc_now())
    other = await store.rooms.create("other", "public", "", ana.id, utc_now())
    elsewhere = (await store.messages.append(_msg(other.id, ana, "elsewhere"))).message
    first = (await store.messages.append(_msg(room.id, ana, "first", "c-first"))).message
    mine = await _file(store, "f" * 32, ana)
    bens = await _file(store, "b" * 32, ben)

    outcomes = await asyncio.gather(
        store.messages.append(_msg(room.id, eve, "not a member")),
        store.messages.append(_msg(archived.id, ana, "archived")),
        store.messages.append(_msg(room.id, ana, "bad reply", reply_to=elsewhere.id)),
        store.messages.append(_msg(room.id, ana, "not mine", attachments=[bens.id])),
        store.messages.append(_msg(room.id, ana, "again", "c-first")),
        store.messages.append(
            _msg(
                room.id,
                ana,
                "hi @ben @eve",
                "c-new",
                reply_to=first.id,
                attachments=[mine.id],
                mention_names=("ben", "eve"),
            )
        ),
        store.messages.append(_msg(room.id, ana, "repeat in batch", "c-new")),
        return_exceptions=True,
    )

    assert isinstance(outcomes[0], NotFound)
    assert isinstance(outcomes[1], Forbidden)
    assert isinstance(outcomes[2], NotFound)
    assert isinstance(outcomes[3], BadInput)
    repeat, new, repeat_in_batch = outcomes[4:]
    assert isinstance(repeat, AppendOutcome)
    assert not repeat.created
    assert (repeat.message.id, repeat.message.body) == (first.id, "first")
    assert isinstance(new, AppendOutcome)
    assert new.created
    assert new.message.seq == 2
    assert new.message.reply_to == first.id
    assert new.message.attachments == [mine]
    assert new.message.mentions == [ben.id]  # eve is not a member: mentions nobody
    assert isinstance(repeat_in_batch, AppendOutcome)
    assert not repeat_in_batch.created
    assert repeat_in_batch.message.id == new.message.id

    stored = await store.messages.get(new.message.id)
    assert stored is not None
    assert (stored.seq, stored.attachments, stored.mentions) == (2, [mine], [ben.id])
    assert (await store.rooms.get(room.id)).last_seq == 2  # type: ignore[union-attr]


async def test_a_repeat_of_a_message_with_files_returns_them(store: Store) -> None:
    ana = await _user(store, "ana")
    room = await store.rooms.create("r", "public", "", ana.id, utc_now())
    file = await _file(store, "f" * 32, ana)
    await store.messages.append(_msg(room.id, ana, "x", "c", attachments=[file.id]))
    again = await store.messages.append(_msg(room.id, ana, "x", "c", attachments=[file.id]))
    assert not again.created
    assert again.message.attachments == [file]


async def test_a_large_batch_gets_the_ids_and_seqs_it_was_stored_under(store: Store) -> None:
    # 300 messages: more than one multi-row INSERT, with sizes that are not all equal.
    ana = await _user(store, "ana")
    rooms = [await store.rooms.create(f"r{i}", "public", "", ana.id, utc_now()) for i in range(3)]
    futures = [
        store.messages.append(_msg(rooms[i % 3].id, ana, f"word{i} body", f"c{i}"))
        for i in range(300)
    ]
    outcomes = await asyncio.gather(*futures)
    assert store.messages.writer.batches == 1
    for room in rooms:
        page = await store.messages.page(room.id, before_seq=None, after_seq=0, limit=200)
        mine = [o.message for o in outcomes if o.message.room_id == room.id]
        assert [(m.id, m.seq, m.body) for m in page] == [(m.id, m.seq, m.body) for m in mine]
        assert [m.seq for m in page] == list(range(1, 101))
    found = await store.search.search(
        ana.id, ["word299"], room_id=None, author_id=None, limit=5, timeout_s=5.0
    )
    assert [m.id for m in found] == [outcomes[299].message.id]
