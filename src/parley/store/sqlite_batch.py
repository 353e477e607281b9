"""SQLite's group commit: a whole batch as one transaction on a plain sqlite3 connection.

Through SQLAlchemy and aiosqlite every statement costs a compile and two thread hops,
and that overhead, not SQLite, was most of a batch's cost. Here one plain function runs
the batch's transaction (BEGIN IMMEDIATE ... COMMIT) and returns what it decided; it runs
in the writer process (:mod:`parley.store.writer_process`), and the server turns the
result into outcomes with :func:`parley.store.batch.outcomes`.

The rules are :mod:`parley.store.batch`'s, shared with the SQLAlchemy path; this module
only reads the facts they need and writes the rows. No SQLAlchemy here: the writer
process starts without it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import suppress
from functools import lru_cache
from itertools import chain
from types import SimpleNamespace
from typing import Any

from parley.domain.models import File, Message, NewMessage
from parley.store.batch import (
    INSERTED_COLUMNS,
    STORED_COLUMNS,
    Checks,
    Mentioned,
    Written,
    file_from_row,
    inserted_row,
    memberships_of,
    placements,
    plan_batch,
    resolve_mentions,
    stored_message,
)

# Every connection that writes: WAL, so readers never block the writer, and with
# synchronous=NORMAL a committed transaction survives a crash of the process (kill -9),
# which is what an ack promises. Checkpoints run beside the writer
# (parley.store.checkpoints), not inside commits; after a burst the WAL file is cut
# back to journal_size_limit when it starts over. Temporary storage stays in memory: a
# batch's multi-row INSERT (its FTS trigger included) outgrows the 64 KiB statement
# journal that SQLite keeps in memory, and on disk that journal was a file created,
# written and unlinked in every large batch (strace, 200 batches of 250: 197 unlinks
# and 62,103 pwrites on disk; 5 and 34,121 in memory).
BUSY_TIMEOUT_MS = 10_000
WAL_SIZE_LIMIT = 64 * 2**20
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA wal_autocheckpoint=0",
    f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
    "PRAGMA temp_store=MEMORY",
)

# A search-index merge step's size in pages (merge_search_index). In a test of 100,000
# messages in batches of 5 with a step after each batch, the longest batch took 4.9 ms
# and the longest step 4.4 ms; with FTS5 merging inside the commits the longest batch
# took 35.5 ms.
SEARCH_MERGE_PAGES = 16

# The FTS5 trigger on messages flushes its pending index at every statement's savepoint,
# so a row-by-row executemany wrote one index segment per message (about 80 % of the
# insert's cost). Multi-row INSERTs flush once per statement. Chunks are powers of two
# so that few statement texts exist and sqlite3's statement cache keeps them prepared.
_MAX_INSERT_ROWS = 256

_FILE_COLUMNS = (
    "f.id, f.uploader_id, f.name, f.size, f.content_type, f.thumb_key, f.width, f.height"
)


def connect(path: str) -> sqlite3.Connection:
    """A connection for the writer: explicit transactions, Parley's pragmas."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        db.execute(pragma)
    return db


def store_batch(db: sqlite3.Connection, items: list[NewMessage]) -> Written:
    """Store ``items`` in one committed transaction and say what became of each.

    Raises sqlite3 errors as they are (the caller decides between retry and refusal).
    """
    # IMMEDIATE: the checks and the writes see one snapshot under the write lock, so no
    # other writer can slip a duplicate client_id or a membership change in between.
    db.execute("BEGIN IMMEDIATE")
    try:
        written = _append(db, items)
        db.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    # The server needs only the outcomes: the room grouping stays here.
    written.plan.fresh = {}
    return written


def merge_search_index(db: sqlite3.Connection) -> bool:
    """One bounded step of merging the search index's segments; False if none was due.

    FTS5 does not merge by itself (migration 0005_search_merges): the writer calls this
    between batches. A step writes about SEARCH_MERGE_PAGES pages, a few milliseconds at
    most, so a batch that arrives meanwhile waits little. FTS5 tells that a step found
    nothing to do by a change count below 2.
    """
    before = db.total_changes
    db.execute(
        "INSERT INTO messages_fts(messages_fts, rank) VALUES ('merge', ?)", (SEARCH_MERGE_PAGES,)
    )
    return db.total_changes - before >= 2


def _append(db: sqlite3.Connection, items: list[NewMessage]) -> Written:
    checks = _read_checks(db, items)
    plan = plan_batch(items, checks)
    if not plan.fresh:
        return Written(plan, [], [], {}, {})
    placed = placements(plan.fresh, _reserve_seqs(db, plan.fresh))
    ids = _insert_messages(db, items, placed, checks.owned)
    mentioned = _store_mentions(db, items, placed, ids)
    _link_files(db, items, placed, ids)
    return Written(plan, placed, ids, checks.owned, mentioned)


# Reading -------------------------------------------------------------------------------


def _read_checks(db: sqlite3.Connection, items: list[NewMessage]) -> Checks:
    members, archived = _memberships(db, {(i.room_id, i.author.id) for i in items})
    return Checks(
        members=members,
        archived=archived,
        replies=_valid_replies(db, {i.reply_to for i in items if i.reply_to is not None}),
        owned=_owned_files(db, {(i.author.id, f) for i in items for f in i.attachments}),
        stored=_stored(db, items),
    )


def _memberships(
    db: sqlite3.Connection, pairs: set[tuple[int, int]]
) -> tuple[set[tuple[int, int]], set[int]]:
    """Which (room_id, user_id) pairs are memberships, and which of those rooms are archived."""
    keys = _padded(list(pairs), (None, None))
    sql = (
        f"WITH k(room_id, user_id) AS (VALUES {_values(2, len(keys))}) "
        "SELECT m.room_id, m.user_id, r.archived_at IS NOT NULL "
        "FROM k CROSS JOIN memberships AS m ON m.room_id = k.room_id AND m.user_id = k.user_id "
        "JOIN rooms AS r ON r.id = m.room_id"
    )
    return memberships_of(db.execute(sql, _flat(keys)))


def _stored(db: sqlite3.Connection, items: list[NewMessage]) -> dict[tuple[int, str], Message]:
    """Messages already stored under the batch's (author_id, client_id) keys.

    Nearly every send is new: each key is one probe of the unique index, and only a hit
    reads the message row (CROSS JOIN keeps SQLite from scanning messages instead).
    """
    authors = {(i.author.id, i.client_id): i.author for i in items if i.client_id is not None}
    if not authors:
        return {}
    keys = _padded(list(authors), (None, None))
    sql = (
        f"WITH k(author_id, client_id) AS (VALUES {_values(2, len(keys))}) "
        f"SELECT {STORED_COLUMNS} "
        "FROM k CROSS JOIN messages AS m "
        "ON m.author_id = k.author_id AND m.client_id = k.client_id"
    )
    rows = {(r.author_id, r.client_id): r for r in _objects(db.execute(sql, _flat(keys)))}
    if not rows:
        return {}
    files = _attachments_of(db, {r.id for r in rows.values()})
    return {
        key: stored_message(row, authors[key], files.get(row.id, [])) for key, row in rows.items()
    }


def _valid_replies(db: sqlite3.Connection, targets: set[int]) -> set[tuple[int, int]]:
    if not targets:
        return set()
    ids = _padded(list(targets))
    sql = f"SELECT id, room_id FROM messages WHERE id IN ({_marks(len(ids))})"
    return {(message_id, room_id) for message_id, room_id in db.execute(sql, ids)}


def _owned_files(
    db: sqlite3.Connection, pairs: set[tuple[int, str]]
) -> dict[tuple[int, str], File]:
    """The files among ``(uploader_id, file_id)`` pairs that exist and are that user's."""
    if not pairs:
        return {}
    ids = _padded(list({file_id for _, file_id in pairs}))
    sql = f"SELECT {_FILE_COLUMNS} FROM files AS f WHERE f.id IN ({_marks(len(ids))})"
    found = {(r.uploader_id, r.id): file_from_row(r) for r in _objects(db.execute(sql, ids))}
    return {pair: found[pair] for pair in pairs if pair in found}


def _attachments_of(db: sqlite3.Connection, message_ids: set[int]) -> dict[int, list[File]]:
    ids = _padded(list(message_ids))
    sql = (
        f"SELECT {_FILE_COLUMNS}, mf.message_id, mf.position FROM message_files AS mf "
        f"JOIN files AS f ON f.id = mf.file_id WHERE mf.message_id IN ({_marks(len(ids))}) "
        "ORDER BY mf.message_id, mf.position"
    )
    found: dict[int, list[File]] = {}
    for row in _objects(db.execute(sql, ids)):
        found.setdefault(row.message_id, []).append(file_from_row(row))
    return found


# Writing -------------------------------------------------------------------------------


def _reserve_seqs(db: sqlite3.Connection, fresh: dict[int, list[int]]) -> dict[int, int]:
    """Advance each room's last_seq by its new messages; returns each room's new last_seq.

    The transaction holds SQLite's write lock, so the seqs are contiguous and never
    handed out twice, whichever process asks.
    """
    db.executemany(
        "UPDATE rooms SET last_seq = last_seq + ? WHERE id = ?",
        [(len(indexes), room_id) for room_id, indexes in fresh.items()],
    )
    ids = _padded(list(fresh))
    sql = f"SELECT id, last_seq FROM rooms WHERE id IN ({_marks(len(ids))})"
    return dict(db.execute(sql, ids))


def _insert_messages(
    db: sqlite3.Connection,
    items: list[NewMessage],
    placed: list[tuple[int, int]],
    owned: dict[tuple[int, str], File],
) -> list[int]:
    """Insert the placed messages in ``placed`` order; returns their ids in that order."""
    params: list[Any] = []
    for index, seq in placed:
        params += inserted_row(items[index], seq, owned)
    ids: list[int] = []
    start = 0
    for size in _chunk_sizes(len(placed)):
        end = start + size * len(INSERTED_COLUMNS)
        last_id = db.execute(_insert_sql(size), params[start:end]).lastrowid
        assert last_id is not None
        # This transaction is the only writer, so one statement's rows took
        # consecutive rowids, ending at the last one (the FTS trigger's own insert
        # does not change last_insert_rowid once it returns).
        ids.extend(range(last_id - size + 1, last_id + 1))
        start = end
    return ids


def _store_mentions(
    db: sqlite3.Connection,
    items: list[NewMessage],
    placed: list[tuple[int, int]],
    ids: list[int],
) -> dict[int, list[int]]:
    """Record who the new messages mention (members of their room only)."""
    wanted = [
        Mentioned(message_id, items[index].room_id, seq, items[index].mention_names)
        for (index, seq), message_id in zip(placed, ids, strict=True)
        if items[index].mention_names
    ]
    if not wanted:
        return {}
    room_ids = _padded(list({m.room_id for m in wanted}))
    names = _padded(list({n for m in wanted for n in m.names}))
    sql = (
        "SELECT m.room_id, u.id, u.username_key FROM memberships AS m "
        "JOIN users AS u ON u.id = m.user_id "
        f"WHERE m.room_id IN ({_marks(len(room_ids))}) "
        f"AND u.username_key IN ({_marks(len(names))})"
    )
    by_room: dict[int, dict[str, int]] = {}
    for room_id, user_id, name in db.execute(sql, [*room_ids, *names]):
        by_room.setdefault(room_id, {})[name] = user_id
    found, rows = resolve_mentions(wanted, by_room)
    if rows:
        db.executemany(
            "INSERT INTO message_mentions (message_id, user_id, room_id, seq) VALUES (?, ?, ?, ?)",
            rows,
        )
    return found


def _link_files(
    db: sqlite3.Connection,
    items: list[NewMessage],
    placed: list[tuple[int, int]],
    ids: list[int],
) -> None:
    links = [
        (message_id, file_id, position)
        for (index, _), message_id in zip(placed, ids, strict=True)
        for position, file_id in enumerate(items[index].attachments)
    ]
    if links:
        db.executemany(
            "INSERT INTO message_files (message_id, file_id, position) VALUES (?, ?, ?)", links
        )


# SQL text ------------------------------------------------------------------------------


def _padded(keys: list[Any], blank: Any = None) -> list[Any]:
    """``keys`` followed by ``blank`` (NULLs, which match nothing) up to a power of two.

    Few statement texts then exist, and sqlite3's statement cache keeps them prepared:
    preparing a statement with hundreds of values costs about as much as running it.
    """
    size = 1 << (len(keys) - 1).bit_length()
    return keys + [blank] * (size - len(keys))


def _chunk_sizes(count: int) -> Iterable[int]:
    """Powers of two, largest first, that add up to ``count``."""
    while count:
        size = min(_MAX_INSERT_ROWS, 1 << (count.bit_length() - 1))
        yield size
        count -= size


def _flat(rows: Iterable[Sequence[Any]]) -> list[Any]:
    return list(chain.from_iterable(rows))


@lru_cache(maxsize=64)
def _marks(count: int) -> str:
    return ", ".join("?" * count)


@lru_cache(maxsize=64)
def _values(columns: int, rows: int) -> str:
    row = f"({_marks(columns)})"
    return ", ".join([row] * rows)


@lru_cache(maxsize=16)
def _insert_sql(rows: int) -> str:
    columns = ", ".join(INSERTED_COLUMNS)
    return f"INSERT INTO messages ({columns}) VALUES {_values(len(INSERTED_COLUMNS), rows)}"


def _objects(cursor: sqlite3.Cursor) -> Iterable[Any]:
    """Rows with attribute access by column name (for the rarer reads)."""
    names: list[str] = [d[0] for d in cursor.description]
    for row in cursor:
        yield SimpleNamespace(**dict(zip(names, row, strict=True)))
