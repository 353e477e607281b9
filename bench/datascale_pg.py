"""Data scale on PostgreSQL: the SQLite fixture of bench/datascale.py, copied.

    python -m bench.datascale build --database postgresql://postgres@127.0.0.1:5432/parley_ds10m
    python -m bench.datascale measure --database postgresql://...  [--runs 3]
    python -m bench.datascale plans --database postgresql://...

``build`` takes the cached SQLite store of the same ``--messages`` (``--dir``, default
``bench/.cache/datascale-<messages>/``; built first if missing), so both engines hold
the same rows: it creates the database (its name must start with ``parley_ds``),
migrates it with Parley's own migrations, sets the fixture tables' indexes and
constraints aside, COPYs the rows over in one connection, then builds the indexes
(the search's GIN index among them) and constraints again and ANALYZEs. The SQLite
file is opened ``immutable`` (read-only, no lock, no -wal or -shm written beside it).

The fixture's description (``datascale.json``) and the server's data folder (its secret
key) go in ``bench/.cache/datascale-pg-<database>/``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.datascale import CACHE
from bench.datascale import build as build_sqlite
from parley.store import open_store
from parley.store.postgres_session import PG_SESSION_SETTINGS

# What the SQLite build writes; other tables (sessions from a measurement) are not copied.
FIXTURE_TABLES = (
    "users",
    "rooms",
    "memberships",
    "messages",
    "message_mentions",
    "files",
    "message_files",
    "reactions",
)
PREFIX = "parley_ds"
BATCH = 50_000


def asyncpg_url(url: str) -> str:
    """postgres://, postgresql:// or postgresql+asyncpg:// as asyncpg takes it."""
    return "postgresql://" + url.split("://", 1)[1]


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(PREFIX):
        raise SystemExit(f"the database's name must start with {PREFIX!r}: {name!r}")
    return name


def folder_of(url: str) -> Path:
    return CACHE / f"datascale-pg-{database_name(url)}"


def _maintenance_url(url: str) -> str:
    parts = urlsplit(asyncpg_url(url))
    return urlunsplit(parts._replace(path="/postgres"))


# -- build --------------------------------------------------------------------------------


def build(url: str, source: Path, messages: int) -> dict[str, Any]:
    name = database_name(url)
    folder = folder_of(url)
    if (folder / "datascale.json").exists():
        raise SystemExit(f"{folder} exists: measure it, or drop {name} and remove it")
    if not (source / "datascale.json").exists():
        print(f"  building the SQLite fixture first, in {source}", file=sys.stderr)
        build_sqlite(source, messages)
    meta = json.loads((source / "datascale.json").read_text())
    began = time.monotonic()
    asyncio.run(_build(url, name, source / "parley.db"))
    folder.mkdir(parents=True, exist_ok=True)
    meta["build_s"] = round(time.monotonic() - began, 1)
    meta["source"] = str(source)
    meta["database"] = name
    meta["db_bytes"] = asyncio.run(database_bytes(url))
    (folder / "datascale.json").write_text(json.dumps(meta))
    return meta


async def _build(url: str, name: str, sqlite_path: Path) -> None:
    admin = await asyncpg.connect(_maintenance_url(url))
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            raise SystemExit(f"database {name} exists: drop it to build again")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    store = await open_store("postgresql+asyncpg://" + url.split("://", 1)[1])
    await store.close()

    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET synchronous_commit = off")
        rebuild = await _set_aside(conn)
        src = sqlite3.connect(f"file:{sqlite_path}?immutable=1", uri=True)
        try:
            for table in FIXTURE_TABLES:
                await _copy(conn, src, table)
        finally:
            src.close()
        for statement in rebuild:
            step = time.monotonic()
            await conn.execute(statement)
            took = time.monotonic() - step
            print(f"  {took:6.1f} s  {statement[:100]}", file=sys.stderr, flush=True)
        for seq_table in ("users", "rooms", "messages"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{seq_table}', 'id'),"
                f" coalesce((SELECT max(id) FROM {seq_table}), 0) + 1, false)"
            )
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def _set_aside(conn: asyncpg.Connection) -> list[str]:
    """Drop the fixture tables' indexes and constraints (and every foreign key, which
    may lean on them); return the statements that make them again, in order."""
    tables = list(FIXTURE_TABLES)
    foreign = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    )
    keys = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype IN ('p', 'u')"
        " AND conrelid::regclass::text = ANY($1::text[])",
        tables,
    )
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def"
        " FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        tables,
    )
    for row in foreign:
        await conn.execute(f'ALTER TABLE {row["tbl"]} DROP CONSTRAINT "{row["conname"]}"')
    for row in keys:
        await conn.execute(f'ALTER TABLE {row["tbl"]} DROP CONSTRAINT "{row["conname"]}"')
    for row in indexes:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [
        *(f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in keys),
        *(str(r["def"]) for r in indexes),
        *(f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in foreign),
    ]


async def _copy(conn: asyncpg.Connection, src: sqlite3.Connection, table: str) -> None:
    pg_types = {
        r["column_name"]: r["data_type"]
        for r in await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1",
            table,
        )
    }
    columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})") if r[1] in pg_types]
    # SQLite keeps booleans as 0/1; asyncpg's binary COPY wants bool.
    flags = [i for i, c in enumerate(columns) if pg_types[c] == "boolean"]
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] = _booleans(flags)
    cursor = src.execute(f"SELECT {', '.join(columns)} FROM {table}")
    began, total = time.monotonic(), 0
    for batch in _batches(cursor):
        await conn.copy_records_to_table(table, records=map(convert, batch), columns=columns)
        total += len(batch)
        if total % 1_000_000 < BATCH:
            rate = total / (time.monotonic() - began)
            print(f"  {table}: {total:,} rows, {rate:,.0f}/s", file=sys.stderr, flush=True)
    took = time.monotonic() - began
    print(f"  {table}: {total:,} rows in {took:.1f} s", file=sys.stderr, flush=True)


def _booleans(flags: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    if not flags:
        return lambda row: row
    wanted = set(flags)

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            (None if v is None else bool(v)) if i in wanted else v for i, v in enumerate(row)
        )

    return convert


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[tuple[Any, ...]]]:
    while batch := cursor.fetchmany(BATCH):
        yield batch


async def database_bytes(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


# -- plans ---------------------------------------------------------------------------------


async def explain(
    url: str, captured: list[tuple[str, str, Any]]
) -> list[tuple[str, str, list[str]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each captured statement with its own parameters.

    ANALYZE runs the statement: an UPDATE among them (mark read) is rolled back. The
    connection has Parley's own session settings (JIT off among them)."""
    conn = await asyncpg.connect(asyncpg_url(url), server_settings=dict(PG_SESSION_SETTINGS))
    out = []
    try:
        for name, statement, parameters in captured:
            params = list(parameters) if isinstance(parameters, (tuple, list)) else []
            transaction = conn.transaction()
            await transaction.start()
            try:
                rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
            finally:
                await transaction.rollback()
            shown = " ".join(statement.split())
            out.append((name, shown, [str(r[0]) for r in rows]))
    finally:
        await conn.close()
    return out
