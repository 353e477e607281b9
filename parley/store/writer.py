"""Group commit: the messages that arrive together are stored in one transaction.

Each send enqueues its message and waits on a future; one task takes everything waiting,
stores it in a single transaction that also assigns each room's next ``seq`` values, and
resolves the futures only after the commit. One fsync then covers many messages, which
is what lets SQLite ack thousands of messages a second while "acked" still means stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Message, User
from parley.errors import BadInput, Forbidden, NotFound, ParleyError, Unavailable
from parley.store.files import attachments_of, link, owned_files
from parley.store.mentions import Mentioned, store_mentions
from parley.store.schema import memberships, messages, rooms

log = logging.getLogger(__name__)

# Bounds one transaction's size so that one huge burst cannot stall the acks of a
# message that arrives right behind it for long.
MAX_BATCH = 500


@dataclass(slots=True)
class NewMessage:
    room_id: int
    author: User
    body: str
    client_id: str | None
    created_at: str
    reply_to: int | None = None
    attachments: list[str] = field(default_factory=list)
    # Lower-cased usernames after "@" (resolved among the room's members on insert).
    mention_names: tuple[str, ...] = ()
    mentions_room: bool = False


@dataclass(slots=True)
class AppendOutcome:
    message: Message
    created: bool


_Pending = tuple[NewMessage, "asyncio.Future[AppendOutcome]"]


class GroupCommitter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    def submit(self, item: NewMessage) -> asyncio.Future[AppendOutcome]:
        """Queue a message for the next transaction; the future resolves after commit.

        Synchronous on purpose: messages queued by one connection in order are stored
        in that order.
        """
        future: asyncio.Future[AppendOutcome] = asyncio.get_running_loop().create_future()
        if self._closing:
            future.set_exception(Unavailable("The server is shutting down."))
            return future
        self._pending.append((item, future))
        self._wakeup.set()
        return future

    async def close(self) -> None:
        """Store everything already queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        items = [item for item, _ in batch]
        try:
            async with self._engine.begin() as conn:
                outcomes = await append_batch(conn, items)
        except IntegrityError:
            # Another process stored the same client_id a moment ago: retry one by one so
            # that only the duplicate is affected (it then resolves to the stored message).
            outcomes = [await self._commit_one(item) for item in items]
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("storing %d messages failed: %s", len(items), exc)
            outcomes = [Unavailable("Could not store the message; try again.")] * len(items)
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, ParleyError):
                future.set_exception(outcome)
            else:
                self.stored += outcome.created
                future.set_result(outcome)

    async def _commit_one(self, item: NewMessage) -> AppendOutcome | ParleyError:
        try:
            async with self._engine.begin() as conn:
                return (await append_batch(conn, [item]))[0]
        except IntegrityError:
            async with self._engine.begin() as conn:
                return (await append_batch(conn, [item]))[0]
        except (OperationalError, DBAPIError, OSError):
            return Unavailable("Could not store the message; try again.")


async def append_batch(
    conn: AsyncConnection, items: list[NewMessage]
) -> list[AppendOutcome | ParleyError]:
    """Store ``items`` in the open transaction; one outcome per item, in order.

    Checks membership, resolves repeated client_ids to the stored message, and gives each
    room's new messages the next contiguous seq values under the room row's lock.
    """
    author_ids = {i.author.id for i in items}
    room_ids = {i.room_id for i in items}
    member_rows = await conn.execute(
        sa.select(memberships.c.room_id, memberships.c.user_id).where(
            memberships.c.user_id.in_(author_ids), memberships.c.room_id.in_(room_ids)
        )
    )
    is_member = {(r.room_id, r.user_id) for r in member_rows}
    archived = set(
        (
            await conn.execute(
                sa.select(rooms.c.id).where(
                    rooms.c.id.in_(room_ids), rooms.c.archived_at.is_not(None)
                )
            )
        ).scalars()
    )

    stored = await _stored_by_client_id(conn, items)
    reply_ok = await _valid_replies(conn, items)
    # Only files their author uploaded may be attached (checked in this transaction).
    owned = await owned_files(conn, ((i.author.id, f) for i in items for f in i.attachments))
    stored_files = await attachments_of(conn, (r.id for r in stored.values()))

    outcomes: list[AppendOutcome | ParleyError | None] = [None] * len(items)
    fresh: dict[int, list[int]] = defaultdict(list)  # room id -> indexes of new messages
    first_in_batch: dict[tuple[int, str], int] = {}
    duplicates: list[tuple[int, int]] = []
    for index, item in enumerate(items):
        if (item.room_id, item.author.id) not in is_member:
            outcomes[index] = NotFound("No such room.", code="room_not_found")
            continue
        if item.room_id in archived:
            outcomes[index] = Forbidden("This room is archived.", code="room_archived")
            continue
        if item.reply_to is not None and (item.reply_to, item.room_id) not in reply_ok:
            outcomes[index] = NotFound("The message replied to is not in this room.")
            continue
        if any((item.author.id, f) not in owned for f in item.attachments):
            outcomes[index] = BadInput(
                "Attach only files you uploaded.", code="invalid_attachments"
            )
            continue
        if item.client_id is not None:
            key = (item.author.id, item.client_id)
            if key in stored:
                row = stored[key]
                outcomes[index] = AppendOutcome(
                    _message(row, item.author, stored_files.get(row.id, [])), False
                )
                continue
            if key in first_in_batch:
                duplicates.append((index, first_in_batch[key]))
                continue
            first_in_batch[key] = index
        fresh[item.room_id].append(index)

    rows: list[dict[str, Any]] = []
    reserved = await _reserve_seqs(conn, {room_id: len(fresh[room_id]) for room_id in fresh})
    for room_id in sorted(fresh):
        indexes = fresh[room_id]
        first_seq = reserved[room_id] - len(indexes) + 1
        for offset, index in enumerate(indexes):
            item = items[index]
            rows.append(
                {
                    "index": index,
                    "room_id": room_id,
                    "seq": first_seq + offset,
                    "author_id": item.author.id,
                    "body": item.body,
                    "created_at": item.created_at,
                    "client_id": item.client_id,
                    "reply_to": item.reply_to,
                    "mentions_room": item.mentions_room,
                }
            )
    if rows:
        ids = await _insert_messages(conn, rows)
        links: list[tuple[int, str, int]] = []
        mentioned = await store_mentions(
            conn,
            [
                Mentioned(message_id, row["room_id"], row["seq"], items[row["index"]].mention_names)
                for row, message_id in zip(rows, ids, strict=True)
            ],
        )
        for row, message_id in zip(rows, ids, strict=True):
            item = items[row["index"]]
            links.extend((message_id, f, pos) for pos, f in enumerate(item.attachments))
            outcomes[row["index"]] = AppendOutcome(
                Message(
                    id=message_id,
                    room_id=item.room_id,
                    seq=row["seq"],
                    author=item.author,
                    body=item.body,
                    created_at=item.created_at,
                    edited_at=None,
                    client_id=item.client_id,
                    attachments=[owned[(item.author.id, f)] for f in item.attachments],
                    reply_to=item.reply_to,
                    mentions=mentioned.get(message_id, []),
                    mentions_room=item.mentions_room,
                ),
                True,
            )
        await link(conn, links)
    for index, first in duplicates:
        original = outcomes[first]
        assert isinstance(original, AppendOutcome)
        outcomes[index] = AppendOutcome(original.message, False)
    return [o for o in outcomes if o is not None]


_INSERTED = (
    "room_id",
    "seq",
    "author_id",
    "body",
    "created_at",
    "client_id",
    "reply_to",
    "mentions_room",
)
_SQLITE_INSERT = (
    f"INSERT INTO messages ({', '.join(_INSERTED)}) VALUES ({', '.join('?' * len(_INSERTED))})"
)


async def _reserve_seqs(conn: AsyncConnection, counts: dict[int, int]) -> dict[int, int]:
    """Advance each room's last_seq by its count; returns each room's new last_seq.

    The UPDATE takes the room row's lock until commit, so the seqs it hands out are
    contiguous and never reused, whichever process asks. PostgreSQL: one statement per
    room in id order, so two processes never lock the same rooms in opposite orders.
    SQLite has one writer at a time: one statement does every room of the batch.
    """
    if not counts:
        return {}
    if conn.dialect.name == "sqlite":
        result = await conn.execute(
            rooms.update()
            .where(rooms.c.id.in_(counts))
            .values(last_seq=rooms.c.last_seq + sa.case(counts, value=rooms.c.id, else_=0))
            .returning(rooms.c.id, rooms.c.last_seq)
        )
        return {row.id: row.last_seq for row in result}
    reserved: dict[int, int] = {}
    for room_id in sorted(counts):
        reserved[room_id] = (
            await conn.execute(
                rooms.update()
                .where(rooms.c.id == room_id)
                .values(last_seq=rooms.c.last_seq + counts[room_id])
                .returning(rooms.c.last_seq)
            )
        ).scalar_one()
    return reserved


async def _insert_messages(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in one executemany and return their ids, in the rows' order.

    Not ``INSERT ... RETURNING``: with several rows SQLAlchemy runs that one statement
    per row on SQLite (it cannot promise RETURNING's order there), which made a batch of
    500 cost 500 round trips to the database thread.
    """
    if conn.dialect.name == "sqlite":
        # Plain DB-API parameters skip SQLAlchemy's per-row parameter processing, the
        # largest cost left in a batch.
        await conn.exec_driver_sql(
            _SQLITE_INSERT, [tuple(row[name] for name in _INSERTED) for row in rows]
        )
        # One writer holds the database for this whole transaction, so the rows just
        # inserted took consecutive rowids, ending at the last one.
        last_id = (await conn.exec_driver_sql("SELECT last_insert_rowid()")).scalar_one()
        return list(range(last_id - len(rows) + 1, last_id + 1))
    await conn.execute(
        messages.insert(), [{k: v for k, v in row.items() if k != "index"} for row in rows]
    )
    # Other processes insert at the same time, so ids are read back by the (room_id,
    # seq) pairs just written: one indexed range query per room.
    by_room: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_room[row["room_id"]].append(row["seq"])
    id_of: dict[tuple[int, int], int] = {}
    for room_id, seqs in by_room.items():
        found = await conn.execute(
            sa.select(messages.c.id, messages.c.seq).where(
                messages.c.room_id == room_id, messages.c.seq.between(min(seqs), max(seqs))
            )
        )
        id_of.update({(room_id, r.seq): r.id for r in found})
    return [id_of[(row["room_id"], row["seq"])] for row in rows]


async def _stored_by_client_id(
    conn: AsyncConnection, items: list[NewMessage]
) -> dict[tuple[int, str], Any]:
    keyed = [i for i in items if i.client_id is not None]
    if not keyed:
        return {}
    query = sa.select(messages).where(
        messages.c.author_id.in_({i.author.id for i in keyed}),
        messages.c.client_id.in_({i.client_id for i in keyed}),
    )
    return {(r.author_id, r.client_id): r for r in await conn.execute(query)}


async def _valid_replies(conn: AsyncConnection, items: list[NewMessage]) -> set[tuple[int, int]]:
    targets = {i.reply_to for i in items if i.reply_to is not None}
    if not targets:
        return set()
    query = sa.select(messages.c.id, messages.c.room_id).where(messages.c.id.in_(targets))
    return {(r.id, r.room_id) for r in await conn.execute(query)}


def _message(row: Any, author: User, attachments: list[Any]) -> Message:
    return Message(
        id=row.id,
        room_id=row.room_id,
        seq=row.seq,
        author=author,
        body=row.body,
        created_at=row.created_at,
        edited_at=row.edited_at,
        client_id=row.client_id,
        attachments=attachments,
        reply_to=row.reply_to,
        mentions_room=bool(row.mentions_room),
        deleted=row.deleted_at is not None,
    )
