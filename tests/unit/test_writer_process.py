"""SQLite's writer process: it survives Ctrl-C, is replaced when it dies, and never
outlives the server."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from parley.domain.models import AppendOutcome, NewMessage, User, utc_now
from parley.store import Store
from parley.store.writer_process import WriterProcess


async def _room(store: Store) -> tuple[User, int]:
    author = await store.users.create("ana", "ana", "not-a-real-hash", utc_now())
    room = await store.rooms.create("r", "private", "", author.id, utc_now())
    return author, room.id


async def _send(store: Store, room_id: int, author: User, body: str) -> AppendOutcome:
    return await store.messages.append(NewMessage(room_id, author, body, body, utc_now()))


def _writer(store: Store) -> asyncio.subprocess.Process:
    writer = store.messages.writer._process
    assert isinstance(writer, WriterProcess)
    assert writer._proc is not None
    return writer._proc


def _writer_pid(store: Store) -> int:
    return _writer(store).pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent has not reaped it yet).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0] != "Z"


async def test_ctrl_c_reaching_the_writer_process_does_not_stop_it(store: Store) -> None:
    author, room_id = await _room(store)
    await _send(store, room_id, author, "before")
    pid = _writer_pid(store)
    # Ctrl-C reaches the whole process group; the server then stores what is queued.
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.2)
    after = await _send(store, room_id, author, "after")
    assert after.message.seq == 2
    assert _writer_pid(store) == pid


async def test_a_killed_writer_process_is_replaced_and_nothing_stored_is_lost(
    store: Store,
) -> None:
    author, room_id = await _room(store)
    first = await _send(store, room_id, author, "first")
    pid = _writer_pid(store)
    os.kill(pid, signal.SIGKILL)
    await asyncio.wait_for(_writer(store).wait(), 10)

    # The dead process is noticed before this batch is handed to it: stored, not refused.
    second = await _send(store, room_id, author, "second")
    assert _writer_pid(store) != pid
    assert (first.message.seq, second.message.seq) == (1, 2)
    page = await store.messages.page(room_id, before_seq=None, after_seq=None, limit=10)
    assert [m.body for m in page] == ["first", "second"]


@pytest.mark.timeout(60)
def test_the_writer_process_ends_when_the_server_is_killed(tmp_path: Path) -> None:
    """kill -9 of the server closes its end of the pipe: the writer exits, no orphan."""
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from parley.domain.models import utc_now
        from parley.store import open_store
        from parley.domain.models import NewMessage

        async def main():
            store = await open_store("sqlite+aiosqlite:///{tmp_path / "parley.db"}")
            ana = await store.users.create("ana", "ana", "x", utc_now())
            room = await store.rooms.create("r", "private", "", ana.id, utc_now())
            await store.messages.append(NewMessage(room.id, ana, "hi", "c1", utc_now()))
            print(store.messages.writer._process._proc.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    server = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert server.returncode == -signal.SIGKILL, server.stderr
    writer_pid = int(server.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(writer_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(writer_pid)


def _search_index_segments(db_path: Path) -> int:
    """How many segments FTS5's index has, from its structure record (id 10).

    The record starts with a 4-byte cookie, then varints: the number of levels and the
    number of segments (single bytes below 128, all this test needs).
    """
    with sqlite3.connect(db_path) as db:
        (structure,) = db.execute("SELECT block FROM messages_fts_data WHERE id = 10").fetchone()
    assert structure[5] < 0x80, "more segments than this test expects"
    return int(structure[5])


async def test_the_writer_merges_the_search_index_between_batches(
    store: Store, tmp_path: Path
) -> None:
    author, room_id = await _room(store)
    # One batch each, so one new index segment each: FTS5 alone (automerge off) would
    # keep all 40.
    for n in range(40):
        await _send(store, room_id, author, f"note{n} about zebras")
    db_path = tmp_path / "test.db"
    for _ in range(200):  # the merging runs while the writer is idle: up to 10 s
        if _search_index_segments(db_path) < 16:
            break
        await asyncio.sleep(0.05)
    assert _search_index_segments(db_path) < 16

    with sqlite3.connect(db_path) as db:
        config = dict(db.execute("SELECT k, v FROM messages_fts_config"))
        db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 0)")
    assert config["automerge"] == 0
    found = await store.search.search(
        author.id, ["zebras"], room_id=None, author_id=None, limit=50, timeout_s=5.0
    )
    assert sorted(m.body for m in found) == sorted(f"note{n} about zebras" for n in range(40))
    found = await store.search.search(
        author.id, ["note17"], room_id=None, author_id=None, limit=5, timeout_s=5.0
    )
    assert [m.body for m in found] == ["note17 about zebras"]
