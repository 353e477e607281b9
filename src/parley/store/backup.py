"""The database side of ``parley backup`` and ``parley restore``.

SQLite is copied with its online backup API: one read transaction sees a consistent
snapshot, and in WAL mode the server's writer goes on meanwhile (readers never block
it). PostgreSQL is dumped with ``pg_dump`` (see parley/backup.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

COUNTED = ("users", "rooms", "messages", "files")


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL (sqlite:///path or sqlite+aiosqlite:///path)."""
    return Path(url.split(":///", 1)[1])


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the live database ``source`` at ``target`` (a new file).

    All pages are copied in one step: a stepwise copy starts over whenever the server
    writes in between, which on a busy server would be forever.
    """
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            # The copy stands alone: one file, no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def sqlite_facts(path: Path) -> tuple[str | None, dict[str, int]]:
    """The schema revision and row counts of an SQLite database file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in COUNTED
        }
    finally:
        conn.close()
    return (revision[0] if revision else None), counts


def sqlite_blob_keys(path: Path) -> list[str]:
    """Every blob key the database's files refer to (bytes and thumbnails)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT blob_key FROM files UNION SELECT thumb_key FROM files "
            "WHERE thumb_key IS NOT NULL"
        ).fetchall()
    finally:
        conn.close()
    return sorted(str(r[0]) for r in rows)


async def engine_facts(engine: AsyncEngine) -> tuple[str | None, dict[str, int]]:
    """The schema revision and row counts of a database behind an engine (PostgreSQL)."""
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        if "alembic_version" not in tables:
            return None, {}
        revision = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).first()
        counts = {}
        for table in COUNTED:
            found = await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))
            counts[table] = int(found.scalar_one())
    return (revision[0] if revision else None), counts


async def is_empty(engine: AsyncEngine) -> bool:
    """Whether the database has no tables at all (a restore's target must not)."""
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    return not tables
