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

Results are the best among the newest ``RANK_WINDOW`` matches the searcher may read, not
among all of them: ranking every match made a search's cost grow with the history (a
common word in a store of 200,000 messages took 630 ms on SQLite, and at millions it
passed the deadline every time: bench/datascale.py). On PostgreSQL ``ts_rank`` ranks
the window; on SQLite the window's texts are ranked in Python
(parley.domain.relevance), since FTS5's ``bm25()`` reads every posting of each word to
count its documents.

On SQLite the text query can carry the room condition itself: the index has a ``room``
column (migration 0015_search_rooms), and a searcher whose rooms hold a small share of
the history asks for ``... AND room : ("4" OR "17")``, which FTS5 answers by
intersecting postings (a common word in a room of 900 messages: 18 s when the word's
postings were walked and the room checked per message, 13 ms this way, at 10M). When
their rooms hold much of the history, walking the word's postings finds theirs soon and
the room postings would only cost. Walked newest first, the LIMIT stops either walk.
A term is matched as a prefix (FTS5 ``"term"*``) unless it is one or two Latin letters
or digits, or is itself a common word (``COMMON_WORD_MATCHES`` messages or more): FTS5
answers a prefix by gathering every posting of every word it starts, 440 ms for
``"the"*`` at 10M, where the word alone is walked lazily (under 2 ms).

Every search runs under a deadline enforced inside the database (a progress handler on
SQLite, ``statement_timeout`` on PostgreSQL), so that no query holds a connection for
long.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parley.domain.models import Message
from parley.domain.relevance import best
from parley.errors import SearchTimeout
from parley.store.messages import decorated
from parley.store.schema import memberships, messages, rooms, users

_fts = sa.table("messages_fts", sa.column("rowid"))
_PG_CONFIG: sa.ColumnClause[Any] = sa.literal_column("'english'::regconfig")
# Stored, not computed per row: a common word's newest-first walk tests each row's
# vector, and parsing the body again cost 20-25 µs a row (0016_pg_search_vector).
_PG_VECTOR: sa.ColumnClause[Any] = sa.literal_column("messages.search_vector")
# SQLite calls the deadline check every this many virtual-machine steps (~1 ms).
_PROGRESS_STEPS = 20_000
# How many of the newest readable matches are ranked for relevance.
RANK_WINDOW = 1000
# The room condition goes into the text query only when the searcher's rooms hold less
# than this share of the history (walking the word's postings then finds few of theirs),
# and they are at most ROOM_TERMS_MAX rooms. At 10M messages, for 200 rooms holding 30 %:
# a rare word 0.3 ms without, 49 ms with; "the" in a room of 900: 18 s without, 13 ms with.
ROOM_TERMS_SHARE = 0.05
ROOM_TERMS_MAX = 500
# Terms this short (Latin letters, digits) match whole words: "th"* gathers nearly every
# posting of the index.
SHORT_TERM = 2
# A term found whole in this many messages is a common word, matched whole.
COMMON_WORD_MATCHES = 2_000


def _readable(room_ids: list[int], author_id: int | None) -> list[sa.ColumnElement[bool]]:
    # Only the searcher's rooms (read from memberships in the same transaction).
    conditions: list[sa.ColumnElement[bool]] = [
        messages.c.room_id.in_(room_ids),
        messages.c.deleted_at.is_(None),
    ]
    if author_id is not None:
        conditions.append(messages.c.author_id == author_id)
    return conditions


def _with_authors() -> sa.Select:  # type: ignore[type-arg]
    return sa.select(
        messages,
        users.c.username,
        users.c.display_name,
        users.c.created_at.label("author_created_at"),
    ).join(users, users.c.id == messages.c.author_id)


def _ranked(recent: sa.Subquery, best_first: sa.ColumnElement[Any]) -> sa.Select:  # type: ignore[type-arg]
    """The messages of ``recent`` (ids and ranks), best first, with their authors."""
    return (
        _with_authors()
        .join(recent, recent.c.id == messages.c.id)
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
                # The driver keeps statements prepared, and from a statement's sixth run
                # PostgreSQL may plan it once for any words and rooms: for a common
                # word that generic plan ran past the 2 s deadline every time (10M
                # messages), where the plan for the actual words takes 25-70 ms.
                await conn.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
                rows = await _run(conn, query.limit(limit))
            else:
                deadline = time.monotonic() + timeout_s
                rows = await _under_deadline(
                    conn,
                    lambda: _search_sqlite(conn, readable, room_ids, terms, limit, deadline),
                    deadline,
                )
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


def _short(term: str) -> bool:
    """One or two Latin letters or digits: matched whole, never as a prefix."""
    return len(term) <= SHORT_TERM and term.isascii()


def _fts_term(term: str, common: bool) -> str:
    # Quoted, so no FTS syntax from users; a prefix unless cheaper and nearly as good whole.
    quoted = '"' + term.replace('"', '""') + '"'
    whole = common or _short(term)
    return quoted if whole else quoted + "*"


def fts_query(terms: list[str], common: set[str], room_ids: list[int] | None) -> str:
    """The FTS5 query: every term in the text columns and, given ``room_ids``, one of
    those rooms in the ``room`` column."""
    words = " ".join(_fts_term(t, t in common) for t in terms)
    query = f"{{body file_names}} : ({words})"
    if room_ids:
        query += " AND room : (" + " OR ".join(f'"{r}"' for r in sorted(room_ids)) + ")"
    return query


async def _few_messages(conn: AsyncConnection, room_ids: list[int]) -> bool:
    """Whether ``room_ids`` are few and hold a small share of all messages."""
    if len(room_ids) > ROOM_TERMS_MAX:
        return False
    theirs = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(rooms.c.last_seq), 0)).where(
            rooms.c.id.in_(room_ids)
        )
    )
    everyone = await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(messages.c.id), 0)))
    return int(theirs or 0) < ROOM_TERMS_SHARE * int(everyone or 0)


async def _common_words(conn: AsyncConnection, terms: list[str]) -> set[str]:
    """The terms found whole in at least COMMON_WORD_MATCHES messages (a walk of at most
    that many postings each, newest first; a rare word's ends at once)."""
    common = set()
    for term in terms:
        if _short(term):
            continue
        found = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts "
                "MATCH :q ORDER BY rowid DESC LIMIT :n)"
            ),
            {"q": "{body file_names} : " + _fts_term(term, True), "n": COMMON_WORD_MATCHES},
        )
        if found == COMMON_WORD_MATCHES:
            common.add(term)
    return common


async def _search_sqlite(
    conn: AsyncConnection,
    readable: list[sa.ColumnElement[bool]],
    room_ids: list[int],
    terms: list[str],
    limit: int,
    deadline: float,
) -> list[Any]:
    in_rooms = room_ids if await _few_messages(conn, room_ids) else None
    common = await _common_words(conn, terms)
    _in_time(deadline)
    query = fts_query(terms, common, in_rooms)
    window = (
        sa.select(_fts.c.rowid, messages.c.body, messages.c.file_names)
        # FTS5 is the outer loop, walked newest first, so the LIMIT stops the walk. The
        # room condition stays on the messages too: what a person may read is decided
        # by the messages table, never by the index alone.
        .select_from(_fts.join(messages, messages.c.id == _fts.c.rowid))
        .where(sa.text("messages_fts MATCH :fts_query").bindparams(fts_query=query), *readable)
        .order_by(_fts.c.rowid.desc())
        .limit(RANK_WINDOW)
    )
    candidates = [
        (row.rowid, f"{row.body}\n{row.file_names or ''}") for row in await conn.execute(window)
    ]
    _in_time(deadline)
    chosen = best(candidates, terms, limit)
    if not chosen:
        return []
    place = {message_id: n for n, message_id in enumerate(chosen)}
    rows = (await conn.execute(_with_authors().where(messages.c.id.in_(chosen)))).all()
    return sorted(rows, key=lambda row: place[row.id])


async def _run(conn: AsyncConnection, query: sa.Select) -> list[Any]:  # type: ignore[type-arg]
    try:
        return list((await conn.execute(query)).all())
    except DBAPIError as exc:
        if "statement timeout" in str(exc.orig) or "canceling statement" in str(exc.orig):
            raise SearchTimeout from exc
        raise


def _in_time(deadline: float) -> None:
    # Between statements: each is also stopped inside SQLite (``_under_deadline``), but
    # only every _PROGRESS_STEPS steps, which a short one never reaches.
    if time.monotonic() > deadline:
        raise SearchTimeout


async def _under_deadline(
    conn: AsyncConnection, statements: Callable[[], Awaitable[list[Any]]], deadline: float
) -> list[Any]:
    expired = False

    def past_deadline() -> int:
        nonlocal expired
        expired = time.monotonic() > deadline
        return int(expired)  # non-zero interrupts the statement

    driver: Any = (await conn.get_raw_connection()).driver_connection  # aiosqlite's
    await driver.set_progress_handler(past_deadline, _PROGRESS_STEPS)
    try:
        return await statements()
    except DBAPIError as exc:
        if expired:
            raise SearchTimeout from exc
        raise
    finally:
        await driver.set_progress_handler(None, 0)
