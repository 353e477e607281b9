"""Fresh PostgreSQL databases for test sessions: created on start, dropped at the end.

``PARLEY_TEST_DATABASE_URL`` names a PostgreSQL server (any database on it, usually
``postgres``); a session then runs its servers on a database of its own there, so that
parallel runs and earlier runs never meet.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

TEST_DATABASE_ENV = "PARLEY_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(_with_database(url, "postgres"), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on ``server_url``; drop it afterwards."""
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(server_url, name)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def requested_database_server() -> str | None:
    """The PostgreSQL server the API suite should run on, if one was asked for."""
    return os.environ.get(TEST_DATABASE_ENV) or None
