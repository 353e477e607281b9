"""PostgreSQL's writer process: the child's side of :mod:`parley.store.writer_process`.

Each batch is one transaction on the child's own connection
(:func:`parley.store.postgres_batch.write_batch`). Its statements' answers come back to an
event loop with nothing else to do, where in the server each waited behind the other
connections' frames.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parley.store.batch import Written
from parley.store.postgres_batch import write_batch
from parley.store.postgres_session import WRITER_SESSION_SETTINGS
from parley.store.refusals import refused_value
from parley.store.writer_process import read_request, write_reply


async def serve(url: str, requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer batches from ``requests`` until it ends.

    Reading a request blocks the loop, which has nothing else to run meanwhile: the one
    connection is idle between batches.
    """
    engine = create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        # A restarted PostgreSQL fails no batch: the dead connection is found and replaced.
        pool_pre_ping=True,
        connect_args={"server_settings": dict(WRITER_SESSION_SETTINGS)},
    )
    try:
        await _connect_early(engine)
        while (request := read_request(requests)) is not None:
            items, _checkpoint = request  # PostgreSQL checkpoints by itself
            reply: tuple[str, Written | str]
            try:
                async with engine.begin() as conn:
                    written = await write_batch(conn, items)
                written.plan.fresh = {}  # the server needs only the outcomes
                reply = ("ok", written)
            except Exception as exc:
                # Caught whole: a batch must never end this process.
                reply = (_verdict(exc), str(exc))
            write_reply(replies, reply)
    finally:
        await engine.dispose()


async def _connect_early(engine: AsyncEngine) -> None:
    """Open the connection before the first batch comes, so that it does not wait."""
    try:
        async with engine.connect():
            pass
    except (DBAPIError, OSError) as exc:
        # Not reachable yet: the first batch connects again and answers for itself.
        print(f"parley writer: connecting to PostgreSQL failed: {exc}", file=sys.stderr)


def _verdict(exc: Exception) -> str:
    """How the server should take a batch's error (writer_process's ``_ERRORS``)."""
    if isinstance(exc, IntegrityError):
        return "duplicate"
    if isinstance(exc, (DBAPIError, OSError)) and refused_value(exc) is None:
        return "failed"
    # A value the driver cannot send or the database refuses, or a bug that a row's
    # data set off: the server retries the batch's rows apart, so that only the one at
    # fault is refused.
    print(f"parley writer: a batch was refused: {exc!r}", file=sys.stderr)
    return "refused"
