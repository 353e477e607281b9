"""WAL checkpoints run beside the writer: stored messages reach the database file itself."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from pathlib import Path

from parley.domain.models import NewMessage, User, utc_now
from parley.store import Store, open_store, sqlite_batch
from parley.store.checkpoints import Checkpointer


def _wal(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def _messages_in_file_alone(db: Path, copy: Path) -> int:
    """How many messages a copy of the database file holds without its WAL."""
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(f"file:{copy}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


async def _fill(store: Store, count: int) -> None:
    author = await store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    room = await store.rooms.create("r", "private", "", author.id, utc_now())
    for i in range(count):
        await store.messages.append(NewMessage(room.id, author, f"message {i}", None, utc_now()))


async def test_commits_leave_the_checkpoint_to_the_checkpointer(tmp_path: Path) -> None:
    db = tmp_path / "parley.db"
    # No periodic checkpoint during the test: only the explicit ones below.
    store = await open_store(f"sqlite+aiosqlite:///{db}", checkpoint_interval_s=3600)
    try:
        assert store.checkpointer is not None
        await store.checkpointer.checkpoint()
        # Enough single-message commits to pass SQLite's default of 1,000 WAL pages, at
        # which a commit would otherwise have copied the WAL into the file itself.
        await _fill(store, 600)
        assert _messages_in_file_alone(db, tmp_path / "before.db") == 0
        assert _wal(db).stat().st_size > 1000 * 4096

        await store.checkpointer.checkpoint()
        assert _messages_in_file_alone(db, tmp_path / "after.db") == 600
    finally:
        await store.close()


async def test_closing_the_store_leaves_no_wal_behind(tmp_path: Path) -> None:
    db = tmp_path / "parley.db"
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    await _fill(store, 50)
    await store.close()
    assert not _wal(db).exists() or _wal(db).stat().st_size == 0
    assert _messages_in_file_alone(db, tmp_path / "copy.db") == 50


def _wal_restarts(db: Path) -> int:
    """The WAL header's checkpoint sequence number: it counts the times the WAL started
    over (SQLite's file format, offset 12, big-endian)."""
    with _wal(db).open("rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


async def _say(store: Store, room_id: int, author: User, count: int) -> None:
    for i in range(count):
        await store.messages.append(NewMessage(room_id, author, f"m{i}", None, utc_now()))


async def test_a_checkpoint_between_batches_starts_the_wal_over(tmp_path: Path) -> None:
    db = tmp_path / "parley.db"
    store = await open_store(f"sqlite+aiosqlite:///{db}", checkpoint_interval_s=3600)
    try:
        author = await store.users.create("ana", "ana", "not-a-real-hash", utc_now())
        room = await store.rooms.create("r", "private", "", author.id, utc_now())
        await _say(store, room.id, author, 100)
        # Nothing has copied the WAL (as under load, where a copy is never complete):
        # the batches append to it.
        restarts = _wal_restarts(db)
        await _say(store, room.id, author, 20)
        assert _wal_restarts(db) == restarts

        store.messages.writer.checkpoint_between_batches()
        await _say(store, room.id, author, 2)  # the first asks, the second starts over
        assert _wal_restarts(db) == restarts + 1
        page = await store.messages.page(room.id, before_seq=None, after_seq=None, limit=200)
        assert [m.seq for m in page] == list(range(1, 123))
    finally:
        await store.close()


async def test_a_reader_does_not_hold_up_the_batches_of_a_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "parley.db"
    store = await open_store(f"sqlite+aiosqlite:///{db}", checkpoint_interval_s=3600)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        author = await store.users.create("ana", "ana", "not-a-real-hash", utc_now())
        room = await store.rooms.create("r", "private", "", author.id, utc_now())
        await _say(store, room.id, author, 20)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()  # holds this snapshot
        await _say(store, room.id, author, 20)
        store.messages.writer.checkpoint_between_batches()
        # A checkpoint that waited for the reader would hold the writer for its busy
        # timeout (10 s); this one copies what it can and lets the batches go on.
        await asyncio.wait_for(_say(store, room.id, author, 20), timeout=2.0)
    finally:
        reader.close()
        await store.close()


def _writer(db: Path) -> sqlite3.Connection:
    conn = sqlite_batch.connect(str(db))
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data BLOB)")
    return conn


async def test_past_the_bound_the_checkpointer_asks_for_a_checkpoint_between_batches(
    tmp_path: Path,
) -> None:
    db = tmp_path / "parley.db"
    conn = _writer(db)
    asked: list[bool] = []
    checkpointer = Checkpointer(
        db, 3600, wal_bound_bytes=64 * 4096, on_wal_full=lambda: asked.append(True)
    )
    try:
        for _ in range(10):
            conn.execute("INSERT INTO t (data) VALUES (randomblob(2000))")
        await checkpointer.checkpoint()
        assert asked == []
        for _ in range(100):
            conn.execute("INSERT INTO t (data) VALUES (randomblob(2000))")
        rounds = checkpointer.checkpoints
        await checkpointer.checkpoint()
        assert asked == [True]
        # The round that found the WAL past the bound, and one that found nothing new
        # since: with no writer busy, the request goes out at once.
        assert checkpointer.checkpoints == rounds + 2
    finally:
        await checkpointer.close()
        conn.close()


async def test_checkpoints_slow_down_when_nothing_is_written(tmp_path: Path) -> None:
    db = tmp_path / "parley.db"
    _writer(db).close()
    checkpointer = Checkpointer(db, interval_s=0.02)
    checkpointer.start()
    try:
        await asyncio.sleep(1.0)
    finally:
        await checkpointer.close()
    # Every 20 ms that would be 50; backing off (20, 40, 80 ... ms) it is 6.
    assert checkpointer.checkpoints <= 10


async def test_closing_while_a_checkpoint_runs_in_its_thread_is_safe(tmp_path: Path) -> None:
    """Cancelling the task leaves a checkpoint already in its thread running: close()
    must wait for it before closing the connection (sqlite3 crashed the process)."""
    path = tmp_path / "wal.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * 2000)
    db.commit()
    for round_ in range(60):
        db.execute("INSERT INTO t VALUES (?)", ("y" * 200,))
        db.commit()
        checkpointer = Checkpointer(path, interval_s=0.0005)
        checkpointer.start()
        # Anywhere from before the first checkpoint to the middle of one.
        await asyncio.sleep(0.0002 * (round_ % 10))
        await checkpointer.close()
        done = checkpointer.checkpoints
        await checkpointer.checkpoint()
        assert checkpointer.checkpoints == done, "closed means closed: no connection reopened"
    db.close()


async def test_past_the_bound_rounds_catch_up_with_a_busy_writer_first(tmp_path: Path) -> None:
    """The writer's own checkpoint holds the acks behind it: it gets the request once the
    rounds have copied nearly everything, not while a round's worth is still uncopied."""
    db = tmp_path / "parley.db"
    conn = _writer(db)
    for _ in range(100):
        conn.execute("INSERT INTO t (data) VALUES (randomblob(2000))")
    asked: list[bool] = []
    checkpointer = Checkpointer(
        db,
        3600,
        wal_bound_bytes=64 * 4096,
        on_wal_full=lambda: asked.append(True),
        handoff_frames=1,
    )
    stop = threading.Event()

    def write_on() -> None:
        busy = _writer(db)
        try:
            while not stop.is_set():
                busy.execute("INSERT INTO t (data) VALUES (randomblob(2000))")
        finally:
            busy.close()

    writer = threading.Thread(target=write_on)
    writer.start()
    try:
        await checkpointer.checkpoint()
        rounds = checkpointer.checkpoints
    finally:
        stop.set()
        writer.join()
        await checkpointer.close()
        conn.close()
    assert asked[0] is True
    assert rounds > 2
