"""Group commit: the messages that arrive together are stored in one transaction.

Each send enqueues its message and waits on a future; one task takes everything waiting,
stores it in a single transaction that also assigns each room's next ``seq`` values, and
resolves the futures only after the commit. One fsync then covers many messages, which
is what lets SQLite ack thousands of messages a second while "acked" still means stored.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Message
from parley.errors import BadInput, ParleyError, Unavailable
from parley.store.batch import (
    AppendOutcome,
    Checks,
    Mentioned,
    NewMessage,
    Outcome,
    Plan,
    finish,
    placements,
    plan_batch,
    record_new,
    stored_message,
)
from parley.store.files import attachments_of, link, owned_files
from parley.store.mentions import store_mentions
from parley.store.schema import memberships, messages, rooms
from parley.store.writer_process import WriterProcess

__all__ = ["MAX_BATCH", "AppendOutcome", "GroupCommitter", "NewMessage", "append_batch"]

log = logging.getLogger(__name__)

# Bounds one transaction's size so that one huge burst cannot stall the acks of a
# message that arrives right behind it for long.
MAX_BATCH = 500

# The SQLite path raises sqlite3's own errors, the SQLAlchemy path wraps them.
_DUPLICATE = (IntegrityError, sqlite3.IntegrityError)
# A row the database will not take (a value out of its range or type): retried apart
# from the batch, so that only that row's message fails. OverflowError and ValueError
# are what the drivers raise for an int past 64 bits before SQL runs.
_REFUSED = (DataError, sqlite3.DataError, OverflowError, ValueError, TypeError)
_FAILED = (OperationalError, DBAPIError, sqlite3.Error, OSError)

_Pending = tuple[NewMessage, "asyncio.Future[AppendOutcome]"]


class GroupCommitter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = (
            WriterProcess(Path(engine.url.database or ""))
            if engine.dialect.name == "sqlite"
            else None
        )
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    def checkpoint_between_batches(self) -> None:
        """Have SQLite's writer finish a WAL checkpoint after the next batch, so that the
        WAL starts over (see :mod:`parley.store.checkpoints`); other databases need none."""
        if self._sqlite is not None:
            self._sqlite.checkpoint_after_next_batch = True

    def submit(self, item: NewMessage) -> asyncio.Future[AppendOutcome]:
        """Queue a message for the next transaction; the future resolves after commit.

        Synchronous on purpose: messages queued by one connection in order are stored
        in that order.
        """
        # The task's loop, not get_running_loop(): that one asks the kernel for the
        # process id on every call.
        loop = self._task.get_loop() if self._task is not None else asyncio.get_running_loop()
        future: asyncio.Future[AppendOutcome] = loop.create_future()
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
        if self._sqlite is not None:
            await self._sqlite.close()

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
        outcomes = await self._store_apart(items)
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, ParleyError):
                future.set_exception(outcome)
            else:
                self.stored += outcome.created
                future.set_result(outcome)

    async def _store_apart(self, items: list[NewMessage]) -> list[Outcome]:
        """Store ``items`` in one transaction, or if one of them spoils it, in halves.

        A duplicate key (another process stored the same client_id a moment ago) or a
        row the database refuses fails the whole transaction, not just its row: the
        halves are retried, down to single messages, so that every other message is
        stored and only the one at fault fails (a repeat then resolves to the stored
        message). About 2 log2(n) transactions find one bad row among n; halves keep
        each room's messages in queue order. When the database cannot write at all,
        every message is told to try again.
        """
        try:
            return await self._store(items)
        except (*_DUPLICATE, *_REFUSED) as exc:
            if len(items) == 1:
                return [await self._retry_one(items[0], exc)]
            half = len(items) // 2
            return await self._store_apart(items[:half]) + await self._store_apart(items[half:])
        except _FAILED as exc:
            log.warning("storing %d messages failed: %s", len(items), exc)
            return [Unavailable("Could not store the message; try again.")] * len(items)

    async def _retry_one(self, item: NewMessage, error: Exception) -> Outcome:
        """One message whose transaction failed on its own: a duplicate gets one retry."""
        if isinstance(error, _DUPLICATE):
            try:
                return (await self._store([item]))[0]
            except (*_DUPLICATE, *_REFUSED) as exc:
                error = exc
            except _FAILED:
                return Unavailable("Could not store the message; try again.")
        log.warning("the database refused a message from user %s: %s", item.author.id, error)
        return BadInput("The database cannot store this message.", code="message_refused")

    async def _store(self, items: list[NewMessage]) -> list[Outcome]:
        """Store ``items`` in one committed transaction; one outcome per item."""
        if self._sqlite is not None:
            return await self._sqlite.append(items)
        async with self._engine.begin() as conn:
            return await append_batch(conn, items)


async def append_batch(conn: AsyncConnection, items: list[NewMessage]) -> list[Outcome]:
    """Store ``items`` in the open transaction; one outcome per item, in order.

    The SQLAlchemy path (PostgreSQL; SQLite stores in :mod:`parley.store.writer_process`).
    Checks membership, resolves repeated client_ids to the stored message, and gives each
    room's new messages the next contiguous seq values under the room row's lock.
    """
    checks = await _read_checks(conn, items)
    plan = plan_batch(items, checks)
    if plan.fresh:
        await _store_fresh(conn, items, plan, checks)
    return finish(plan)


async def _read_checks(conn: AsyncConnection, items: list[NewMessage]) -> Checks:
    author_ids = {i.author.id for i in items}
    room_ids = {i.room_id for i in items}
    member_rows = await conn.execute(
        sa.select(memberships.c.room_id, memberships.c.user_id).where(
            memberships.c.user_id.in_(author_ids), memberships.c.room_id.in_(room_ids)
        )
    )
    archived = await conn.execute(
        sa.select(rooms.c.id).where(rooms.c.id.in_(room_ids), rooms.c.archived_at.is_not(None))
    )
    return Checks(
        members={(r.room_id, r.user_id) for r in member_rows},
        archived=set(archived.scalars()),
        replies=await _valid_replies(conn, items),
        # Only files their author uploaded may be attached (checked in this transaction).
        owned=await owned_files(conn, ((i.author.id, f) for i in items for f in i.attachments)),
        stored=await _stored_by_client_id(conn, items),
    )


async def _store_fresh(
    conn: AsyncConnection, items: list[NewMessage], plan: Plan, checks: Checks
) -> None:
    counts = {room_id: len(indexes) for room_id, indexes in plan.fresh.items()}
    placed = placements(plan.fresh, await _reserve_seqs(conn, counts))
    ids = await _insert_messages(conn, items, placed)
    mentioned = await store_mentions(
        conn,
        [
            Mentioned(message_id, items[index].room_id, seq, items[index].mention_names)
            for (index, seq), message_id in zip(placed, ids, strict=True)
        ],
    )
    await link(
        conn,
        [
            (message_id, f, pos)
            for (index, _), message_id in zip(placed, ids, strict=True)
            for pos, f in enumerate(items[index].attachments)
        ],
    )
    record_new(items, plan, placed, ids, checks.owned, mentioned)


async def _reserve_seqs(conn: AsyncConnection, counts: dict[int, int]) -> dict[int, int]:
    """Advance each room's last_seq by its count; returns each room's new last_seq.

    The UPDATE takes the room row's lock until commit, so the seqs it hands out are
    contiguous and never reused, whichever process asks. One statement per room in id
    order, so two processes never lock the same rooms in opposite orders.
    """
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


async def _insert_messages(
    conn: AsyncConnection, items: list[NewMessage], placed: list[tuple[int, int]]
) -> list[int]:
    """Insert the placed messages in one executemany; returns their ids in ``placed`` order.

    Other processes insert at the same time, so ids are read back by the (room_id, seq)
    pairs just written: one indexed range query per room.
    """
    rows: list[dict[str, Any]] = [
        {
            "room_id": items[index].room_id,
            "seq": seq,
            "author_id": items[index].author.id,
            "body": items[index].body,
            "created_at": items[index].created_at,
            "client_id": items[index].client_id,
            "reply_to": items[index].reply_to,
            "mentions_room": items[index].mentions_room,
        }
        for index, seq in placed
    ]
    await conn.execute(messages.insert(), rows)
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
) -> dict[tuple[int, str], Message]:
    authors = {(i.author.id, i.client_id): i.author for i in items if i.client_id is not None}
    if not authors:
        return {}
    query = sa.select(messages).where(
        messages.c.author_id.in_({author_id for author_id, _ in authors}),
        messages.c.client_id.in_({client_id for _, client_id in authors}),
    )
    # The IN lists cross authors with client_ids: keep only the batch's own keys.
    rows = [r for r in await conn.execute(query) if (r.author_id, r.client_id) in authors]
    files = await attachments_of(conn, (r.id for r in rows))
    return {
        (r.author_id, r.client_id): stored_message(
            r, authors[(r.author_id, r.client_id)], files.get(r.id, [])
        )
        for r in rows
    }


async def _valid_replies(conn: AsyncConnection, items: list[NewMessage]) -> set[tuple[int, int]]:
    targets = {i.reply_to for i in items if i.reply_to is not None}
    if not targets:
        return set()
    query = sa.select(messages.c.id, messages.c.room_id).where(messages.c.id.in_(targets))
    return {(r.id, r.room_id) for r in await conn.execute(query)}
