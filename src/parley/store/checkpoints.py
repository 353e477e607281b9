"""SQLite's WAL checkpoints, run beside the writer instead of inside its commits.

By default SQLite checkpoints from within the commit that pushes the WAL past 1,000
pages: that commit copies the WAL into the database file and fsyncs it before it
returns, so every few hundred batches one batch's acks waited tens of milliseconds
(measured: a 20-message batch's p99 27 ms with the checkpoint inline, 7.5 ms without).
Parley's connections turn that off (``wal_autocheckpoint=0``) and this task checkpoints
on a connection and thread of its own, while the writer goes on appending to the WAL.

A PASSIVE checkpoint never waits for readers or writers. It still competes with the
writer for the disk and the CPU while it copies and fsyncs, so under load it runs often
and short: at 10,000 messages a second a checkpoint a second took 60-95 ms, and the
batches committed meanwhile set the ack p99 (median of 3 runs 22.8 ms); one every 100 ms
takes 8-10 ms, and the p99 fell to 7.6 ms. When nothing was written it backs off to
once a second.

Under unbroken load a PASSIVE checkpoint never finds the WAL fully copied (the writer
appends while it copies), so SQLite never starts the WAL over and the file grows, by
140 MB a second at 10,000 messages a second. Past :data:`WAL_BOUND_BYTES` this asks the
writer (``on_wal_full``) to finish the copy between two batches, when nothing else
writes: the copy is then complete, and the next commit starts the WAL from the beginning.
At 10,000 messages a second that held the WAL under 82 MiB (2 GB within 13 s before) and
cut the CPU per message by a tenth (the WAL is written over, not grown), for a p99 of
13.7 ms instead of 7.6: the writer's checkpoint (5.6 ms) holds the batch behind it.

That copy is the frames written since the last round began, so the request waits for
rounds run back to back that find little new (:data:`HANDOFF_FRAMES`): on a 2-core VM
at 10,000 messages a second the writer's checkpoint took 5-15 ms (600 pages, growing
with the database) and now 2-9 ms. The bound is half of what SQLite cuts the WAL file
back to, so the file never outgrows it and no commit truncates it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from parley.store.sqlite_batch import WAL_SIZE_LIMIT

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 0.1
IDLE_INTERVAL_S = 1.0
# The WAL is started over once it holds this much. Half of the size SQLite cuts the file
# back to when it starts over: the WAL grows on while the request waits for the next
# round and the next batch, and a WAL that outgrew the limit is truncated by the first
# commit after the restart, which held that commit for ~10 ms (the file system frees
# the tail's blocks; this disk is mounted with online discard).
WAL_BOUND_BYTES = WAL_SIZE_LIMIT // 2
# Before handing the last copy to the writer, passive rounds run back to back until one
# found fewer new frames than this: the writer then copies about one batch's worth
# while the acks behind it wait (600 pages, 5-15 ms, when it took a round's 100 ms).
HANDOFF_FRAMES = 256
CATCH_UP_ROUNDS = 4


class Checkpointer:
    def __init__(
        self,
        path: Path,
        interval_s: float = CHECKPOINT_INTERVAL_S,
        *,
        wal_bound_bytes: int = WAL_BOUND_BYTES,
        on_wal_full: Callable[[], None] | None = None,
        handoff_frames: int = HANDOFF_FRAMES,
    ) -> None:
        self._path = path
        self._interval_s = interval_s
        self._wal_bound_bytes = wal_bound_bytes
        self._on_wal_full = on_wal_full
        self._handoff_frames = handoff_frames
        self._conn: sqlite3.Connection | None = None
        # The connection is used from worker threads: a checkpoint still running in its
        # thread when close() comes (cancelling the task does not stop the thread) must
        # finish before the connection is closed, or sqlite3 crashes the process.
        self._conn_lock = threading.Lock()
        self._closed = False
        self._page_size = 4096
        self._frames_seen = 0
        self._task: asyncio.Task[None] | None = None
        self.checkpoints = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="wal-checkpoint")

    async def close(self) -> None:
        """Stop, after one last checkpoint (the WAL is then empty unless a reader holds it)."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.checkpoint()
        await asyncio.to_thread(self._close_connection)

    def _close_connection(self) -> None:
        with self._conn_lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file; True if it held frames not seen before.

        Past the bound, also asks the writer to finish the copy between two batches.
        """
        try:
            frames = await asyncio.to_thread(self._checkpoint)
            full = frames * self._page_size > self._wal_bound_bytes
            if full and self._on_wal_full is not None:
                frames = await asyncio.to_thread(self._catch_up, frames)
                self._on_wal_full()
        except sqlite3.Error as exc:
            # A busy database or another process's checkpoint: the next round catches up.
            log.debug("WAL checkpoint skipped: %s", exc)
            return False
        # The frame count only falls when the WAL starts over, so any change is news.
        wrote = frames != self._frames_seen
        self._frames_seen = frames
        return wrote

    async def _run(self) -> None:
        interval = self._interval_s
        while True:
            await asyncio.sleep(interval)
            if await self.checkpoint():
                interval = self._interval_s
            else:
                interval = min(max(IDLE_INTERVAL_S, self._interval_s), interval * 2)

    def _catch_up(self, frames: int) -> int:
        """Passive rounds back to back while the writer appended much during the last."""
        for _ in range(CATCH_UP_ROUNDS):
            before, frames = frames, self._checkpoint()
            if frames - before < self._handoff_frames:  # negative: the WAL started over
                break
        return frames

    def _checkpoint(self) -> int:
        """One PASSIVE checkpoint; the number of frames in the WAL (0 once closed)."""
        with self._conn_lock:
            if self._closed:
                return 0
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
                self._page_size = int(self._conn.execute("PRAGMA page_size").fetchone()[0])
            _, frames, _ = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            return int(frames)
