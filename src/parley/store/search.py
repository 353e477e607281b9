"""Full-text search over message bodies and their files' names: SQLite FTS5 or
PostgreSQL tsvector, by dialect.

The expressions here must match the ones the migrations index: the ``messages_fts``
FTS5 table (body, file_names; porter stems) on SQLite (0006_search_files_stems), the
stored column ``search_vector``, ``to_tsvector('english', body || ' ' || <file_names
with . _ - as spaces>)``, on PostgreSQL (0016_pg_search_vector).
English words match by stem on both ("pictures" finds "picture"); every term is also
a prefix ("pict" finds "picture"), whatever the language.

Membership comes first: the searcher's rooms are read before anything else, a person
in no room costs one indexed lookup and no text search, and the statement only
considers messages of those rooms (``room_id IN``).

Results are the best (bm25 / ts_rank) among the newest ``RANK_WINDOW`` matches the
searcher may read, not among all of them. Ranking every match made a search's cost grow
with the history: a common word in a store of 200,000 messages took 630 ms on SQLite,
and at millions it passed the deadline every time (bench/datascale.py). Walking the
matches newest first and stopping at the window costs what the window costs (24 ms
there), whatever the store's size; on SQLite the text index leads that walk in rowid
order. A rare word's matches all fit in the window, so
its results are the same as before.

Every search runs under a deadline enforced inside the database (a progress handler on
SQLite, ``statement_timeout`` on PostgreSQL), so that no query holds a connection for
long.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Message
from parley.errors import SearchTimeout
from parley.store.messages import decorated
from parley.store.schema import memberships, messages, users

_fts = sa.table("messages_fts", sa.column("rowid"))
_PG_CONFIG: sa.ColumnClause[Any] = sa.literal_column("'english'::regconfig")
# Stored, not computed per row: a common word's newest-first walk tests each row's
# vector, and parsing the body again cost 20-25 µs a row (0016_pg_search_vector).
_PG_VECTOR: sa.ColumnClause[Any] = sa.literal_column("messages.search_vector")
# SQLite calls the deadline check every this many virtual-machine steps (~1 ms).
_PROGRESS_STEPS = 20_000
# How many of the newest readable matches are ranked for relevance.
RANK_WINDOW = 1000


def _readable(room_ids: list[int], author_id: int | None) -> list[sa.ColumnElement[bool]]:
    # Only the searcher's rooms (read from memberships in the same transaction).
    conditions: list[sa.ColumnElement[bool]] = [
        messages.c.room_id.in_(room_ids),
        messages.c.deleted_at.is_(None),
    ]
    if author_id is not None:
        conditions.append(messages.c.author_id == author_id)
    return conditions


def _ranked(recent: sa.Subquery, best_first: sa.ColumnElement[Any]) -> sa.Select:  # type: ignore[type-arg]
    """The messages of ``recent`` (ids and ranks), best first, with their authors."""
    return (
        sa.select(
            messages,
            users.c.username,
            users.c.display_name,
            users.c.created_at.label("author_created_at"),
        )
        .join(recent, recent.c.id == messages.c.id)
        .join(users, users.c.id == messages.c.author_id)
        .order_by(best_first, messages.c.id.desc())
    )


class SearchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def search(
        self,
        user_id: int,
        terms: list[str],
        *,
        room_id: int | None,
        author_id: int | None,
        limit: int,
        timeout_s: float,
    ) -> list[Message]:
        """Messages matching every term (as a word prefix), best first, from the rooms
        ``user_id`` is a member of. Raises SearchTimeout past ``timeout_s``."""
        async with self._engine.connect() as conn:
            mine = sa.select(memberships.c.room_id).where(memberships.c.user_id == user_id)
            if room_id is not None:
                mine = mine.where(memberships.c.room_id == room_id)
            room_ids = list((await conn.execute(mine)).scalars())
            if not room_ids:
                return []
            readable = _readable(room_ids, author_id)
            if self._engine.dialect.name == "postgresql":
                query = _postgres(readable, terms)
                await conn.execute(
                    sa.text(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                )
                rows = await _run(conn, query.limit(limit))
            else:
                query = _sqlite(readable, terms)
                rows = await _run_sqlite(conn, query.limit(limit), timeout_s)
            return await decorated(conn, rows)


def _postgres(readable: list[sa.ColumnElement[bool]], terms: list[str]) -> sa.Select:  # type: ignore[type-arg]
    tsquery = " & ".join(f"{t}:*" for t in terms)
    match = sa.func.to_tsquery(_PG_CONFIG, tsquery)
    recent = (
        sa.select(messages.c.id, sa.func.ts_rank(_PG_VECTOR, match).label("rank"))
        .where(*readable, _PG_VECTOR.op("@@")(match))
        .order_by(messages.c.id.desc())
        .limit(RANK_WINDOW)
        .subquery("recent")
    )
    return _ranked(recent, recent.c.rank.desc())


def _sqlite(readable: list[sa.ColumnElement[bool]], terms: list[str]) -> sa.Select:  # type: ignore[type-arg]
    # Each term quoted (no FTS syntax from users) and matched as a prefix.
    fts_query = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
    matches = sa.text("messages_fts MATCH :fts_query").bindparams(fts_query=fts_query)
    recent = (
        sa.select(_fts.c.rowid.label("id"), sa.literal_column("bm25(messages_fts)").label("rank"))
        # SQLite makes the text index the outer loop, walked in rowid order, so the
        # LIMIT stops the walk (with or without ANALYZE's statistics: checked at 200k).
        .select_from(_fts.join(messages, messages.c.id == _fts.c.rowid))
        .where(matches, *readable)
        .order_by(_fts.c.rowid.desc())
        .limit(RANK_WINDOW)
        .subquery("recent")
    )
    return _ranked(recent, recent.c.rank)


async def _run(conn: AsyncConnection, query: sa.Select) -> list[Any]:  # type: ignore[type-arg]
    try:
        return list((await conn.execute(query)).all())
    except DBAPIError as exc:
        if "statement timeout" in str(exc.orig) or "canceling statement" in str(exc.orig):
            raise SearchTimeout from exc
        raise


async def _run_sqlite(conn: AsyncConnection, query: sa.Select, timeout_s: float) -> list[Any]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    expired = False

    def past_deadline() -> int:
        nonlocal expired
        expired = time.monotonic() > deadline
        return int(expired)  # non-zero interrupts the statement

    driver: Any = (await conn.get_raw_connection()).driver_connection  # aiosqlite's
    await driver.set_progress_handler(past_deadline, _PROGRESS_STEPS)
    try:
        return list((await conn.execute(query)).all())
    except DBAPIError as exc:
        if expired:
            raise SearchTimeout from exc
        raise
    finally:
        await driver.set_progress_handler(None, 0)
