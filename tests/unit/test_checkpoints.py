"""WAL checkpoints run beside the writer: stored messages reach the database file itself."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from parley.domain.models import utc_now
from parley.store import Store, open_store
from parley.store.writer import NewMessage


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
