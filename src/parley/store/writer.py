"""Group commit: the messages that arrive together are stored in one transaction.

Each send enqueues its message and waits on a future; one task takes everything waiting,
stores it in a single transaction that also assigns each room's next ``seq`` values, and
resolves the futures only after the commit. One fsync then covers many messages, which
is what lets SQLite ack thousands of messages a second while "acked" still means stored.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import AppendOutcome, NewMessage
from parley.errors import BadInput, ParleyError, Unavailable
from parley.store.batch import Outcome
from parley.store.writer_process import DuplicateKey, RefusedRow, WriterFailed, WriterProcess

__all__ = ["MAX_BATCH", "GroupCommitter"]

log = logging.getLogger(__name__)

# Bounds one transaction's size so that one huge burst cannot stall the acks of a
# message that arrives right behind it for long.
MAX_BATCH = 500

_DUPLICATE = (DuplicateKey,)
# A row the database will not take (a value out of its range or type): retried apart
# from the batch, so that only that row's message fails.
_REFUSED = (RefusedRow,)
_FAILED = (WriterFailed, OSError)

_Pending = tuple[NewMessage, "asyncio.Future[AppendOutcome]"]


class GroupCommitter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sqlite = engine.dialect.name == "sqlite"
        self._process = WriterProcess(
            engine.url.database or ""
            if self._sqlite
            else engine.url.render_as_string(hide_password=False)
        )
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def prepare(self) -> None:
        """Start the writer process now rather than with the first message, which would
        otherwise wait for it to start (0.2 s on SQLite, 0.6 s and a connection on
        PostgreSQL). For the server; a command that may store nothing skips it."""
        await self._process.start()

    def checkpoint_between_batches(self) -> None:
        """Have SQLite's writer finish a WAL checkpoint after the next batch, so that the
        WAL starts over (see :mod:`parley.store.checkpoints`); other databases need none."""
        if self._sqlite:
            self._process.checkpoint_after_next_batch = True

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
        await self._process.close()

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
        return await self._process.append(items)
