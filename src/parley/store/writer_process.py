"""The writer in a process of its own, so that storing never waits for the GIL.

In a thread of the server, SQLite's batch transaction had to win the GIL back from the
event loop after every call: with the loop busy, a batch of 500 messages took about
70 ms of wall time for 25 ms of CPU, and that wait, not SQLite, set ingest's ack
latency and its ceiling. PostgreSQL's batch had the same wait in another form: each of
its eight statements is a round trip whose answer waited its turn on the busy event
loop (5-7 ms each at 10,000 messages a second). Here a child process holds the one
writing connection and runs each batch on its own core
(:func:`parley.store.sqlite_batch.store_batch`, or
:func:`parley.store.postgres_writer.serve` for PostgreSQL); the server sends it the
batch and gets back what was decided, after the commit.

The protocol is a pipe each way, one request and one reply at a time, each a 4-byte
length and a pickle. Pickle is safe here: both ends are this program, over pipes that
only they hold. The child ends when its input ends: when the server closes the store,
and also when the server dies, since the kernel closes its end of the pipe. It learns
its database from the environment, not its command line, which any local user can read.

A request may also ask the SQLite child to checkpoint the WAL once the batch is
answered: between two batches nothing writes, so that copy is complete and the next
batch starts the WAL over (:mod:`parley.store.checkpoints` asks, past its bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import select
import signal
import sqlite3
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

from parley.domain.models import NewMessage, User
from parley.store.batch import Outcome, Written, outcomes
from parley.store.sqlite_batch import connect, merge_search_index, store_batch

_HEADER = struct.Struct("!I")
_PICKLE = pickle.HIGHEST_PROTOCOL
_EXIT_WAIT_S = 10.0
# The child imports this package from where the server did, installed or not: the
# folder holding it goes at the end of the child's path, so that it shadows nothing.
_SOURCE = str(Path(__file__).resolve().parents[2])
_CHILD = "import sys; sys.path.append(sys.argv[1]); from {} import main; main()"
_DATABASE_ENV = "PARLEY_WRITER_DATABASE"


class WriterFailed(Exception):
    """The batch was not written: the database cannot write now, or the child ended
    (the batch may or may not have been committed, which is what client_id repeats
    are for)."""


class DuplicateKey(WriterFailed):
    """A unique key another writer took a moment ago (a client_id stored elsewhere)."""


class RefusedRow(WriterFailed):
    """A row the database will not take (a value out of its range or type)."""


# The child's verdicts, raised in the server: "duplicate", "refused", anything else
# (the database cannot write now).
_ERRORS: dict[str, type[WriterFailed]] = {"duplicate": DuplicateKey, "refused": RefusedRow}
# What a row's values make sqlite3 raise (too big, wrong type): the row's fault, not
# the database's.
_REFUSED_ROW = (sqlite3.DataError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


class WriterProcess:
    """The server's side: one child per store, started with the server (or the first batch)."""

    def __init__(self, database: str | Path) -> None:
        """``database``: a SQLite file's path, or a PostgreSQL URL (SQLAlchemy's)."""
        self._database = str(database)
        self._proc: asyncio.subprocess.Process | None = None
        self.checkpoint_after_next_batch = False

    async def append(self, items: list[NewMessage]) -> list[Outcome]:
        """Store ``items`` in one committed transaction; one outcome per item, in order.

        Raises what the child met (the caller decides between retry and refusal):
        DuplicateKey, RefusedRow, or WriterFailed when the database cannot write and
        when the child is gone.
        """
        proc = await self.start()
        assert proc.stdin is not None
        assert proc.stdout is not None
        request = pickle.dumps((_packed(items), self.checkpoint_after_next_batch), _PICKLE)
        self.checkpoint_after_next_batch = False
        try:
            proc.stdin.write(_HEADER.pack(len(request)) + request)
            await proc.stdin.drain()
            (size,) = _HEADER.unpack(await proc.stdout.readexactly(_HEADER.size))
            kind, value = pickle.loads(await proc.stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self._stop(kill=True)
            raise WriterFailed("the writer process ended") from exc
        except BaseException:
            # Cancelled half-way through an exchange: the pipes are out of step.
            await self._stop(kill=True)
            raise
        if kind == "ok":
            return outcomes(items, value)
        raise _ERRORS.get(kind, WriterFailed)(value)

    async def start(self) -> asyncio.subprocess.Process:
        """The child, started if it is not running: not yet, or ended (killed, crashed)
        since the last batch."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            await self._stop(kill=True)
            proc = await self._start()
        return proc

    async def close(self) -> None:
        """Let the child finish what it was given, then end it."""
        await self._stop(kill=False)

    async def _start(self) -> asyncio.subprocess.Process:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD.format(__name__),
            _SOURCE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, _DATABASE_ENV: self._database},
        )
        return self._proc

    async def _stop(self, *, kill: bool) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        elif proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), _EXIT_WAIT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# A batch as plain tuples, each author once: pickling the dataclasses themselves calls
# their Python __getstate__ per object (3.8 µs a message to pickle; 1.1 µs as tuples).
_Packed = tuple[dict[int, User], list[tuple[Any, ...]]]


def _packed(items: list[NewMessage]) -> _Packed:
    authors = {item.author.id: item.author for item in items}
    return authors, [
        (
            item.room_id,
            item.author.id,
            item.body,
            item.client_id,
            item.created_at,
            item.reply_to,
            item.attachments,
            item.mention_names,
            item.mentions_room,
            item.thread_root_id,
            item.also_to_room,
        )
        for item in items
    ]


def _unpacked(packed: _Packed) -> list[NewMessage]:
    authors, rows = packed
    return [NewMessage(room_id, authors[author_id], *rest) for room_id, author_id, *rest in rows]


# The child ------------------------------------------------------------------------------


def read_request(requests: BinaryIO) -> tuple[list[NewMessage], bool] | None:
    """The next batch and whether a checkpoint follows it; None once the input ends."""
    header = requests.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    packed, checkpoint = pickle.loads(requests.read(size))
    return _unpacked(packed), checkpoint


def write_reply(replies: BinaryIO, reply: tuple[str, Written | str]) -> None:
    """("ok", what was written), or (a verdict of ``_ERRORS``, the error's text)."""
    data = pickle.dumps(reply, _PICKLE)
    replies.write(_HEADER.pack(len(data)) + data)
    replies.flush()


def serve(path: str, requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer batches from ``requests`` until it ends; merge the search index between them.

    After each batch the index gets one merge step, and more while no batch is waiting,
    until no merge is due: in quiet moments the merging is done off the acks' path, and
    under steady load a step per batch keeps it from falling behind. A checkpoint asked
    for comes last: a frame written between it and the next batch (a merge step's) would
    keep that batch from starting the WAL over.
    """
    db = connect(path)
    merge_due = True
    try:
        while True:
            while merge_due and not _waiting(requests):
                merge_due = _merge_step(db)
            request = read_request(requests)
            if request is None:
                return
            items, checkpoint = request
            reply: tuple[str, Written | str]
            try:
                reply = ("ok", store_batch(db, items))
            except Exception as exc:
                # Caught whole: a batch must never end this process (a reply_to past 64
                # bits raised OverflowError here and failed everyone's batch).
                reply = (_verdict(exc), str(exc))
            write_reply(replies, reply)
            merge_due = _merge_step(db)
            if checkpoint:
                _checkpoint(db)
                merge_due = False  # until the next batch
    finally:
        db.close()


def _verdict(exc: Exception) -> str:
    """How the server should take a batch's error (see ``_ERRORS``)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "duplicate"
    if isinstance(exc, (sqlite3.Error, OSError)) and not isinstance(exc, _REFUSED_ROW):
        return "failed"
    # A value sqlite3 cannot bind, or a bug that a row's data set off: the server
    # retries the batch's rows apart, so that only the one at fault is refused.
    print(f"parley writer: a batch was refused: {exc!r}", file=sys.stderr)
    return "refused"


def _waiting(requests: BinaryIO) -> bool:
    """Whether a request (or the end of input) is there to read.

    The server sends one request and waits for its reply, so nothing is ever left in
    the reader's buffer between requests: the pipe itself tells.
    """
    readable, _, _ = select.select([requests], [], [], 0)
    return bool(readable)


def _merge_step(db: sqlite3.Connection) -> bool:
    try:
        return merge_search_index(db)
    except sqlite3.Error as exc:
        # Merging can wait: the batches must not. (Busy, or a database without the index.)
        print(f"parley writer: merging the search index failed: {exc}", file=sys.stderr)
        return False


def _checkpoint(db: sqlite3.Connection) -> None:
    # PASSIVE: it never waits for a reader. One that holds an old snapshot keeps the WAL
    # from starting over this time, and the checkpointer asks again.
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        print(f"parley writer: checkpointing failed: {exc}", file=sys.stderr)


def main() -> None:
    # Ctrl-C and the service manager's SIGTERM reach the whole process group; the server
    # answers them by storing what is queued, which needs this process until it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Replies get a descriptor of their own; anything printed goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    database = os.environ.pop(_DATABASE_ENV)
    if "://" in database:
        # Imported here: the SQLite child starts without SQLAlchemy.
        from parley.store import postgres_writer

        asyncio.run(postgres_writer.serve(database, sys.stdin.buffer, replies))
    else:
        serve(database, sys.stdin.buffer, replies)
