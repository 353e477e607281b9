"""PostgreSQL databases for the scenarios (``--database postgresql``).

The fixture is built once into ``parley_bench_fixture`` (over the HTTP API, like the
SQLite one), and each run starts from a fresh copy made with ``CREATE DATABASE ...
TEMPLATE``, as each SQLite run starts from a copy of the fixture's folder. Only
databases named here are created or dropped.
"""

from __future__ import annotations

import subprocess

SERVER = "postgresql://postgres@127.0.0.1:5432"
FIXTURE = "parley_bench_fixture"
RUN = "parley_bench_run"


def url(name: str) -> str:
    return f"{SERVER}/{name}"


def _sql(statement: str) -> None:
    subprocess.run(
        ["psql", f"{SERVER}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
        check=True,
    )


def ensure(name: str) -> None:
    """Create database ``name`` unless it exists."""
    found = subprocess.run(
        [
            "psql",
            f"{SERVER}/postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not found:
        _sql(f"CREATE DATABASE {name}")


def fresh_copy(template: str = FIXTURE, name: str = RUN) -> str:
    """Drop ``name`` and make it again as a copy of ``template``; its URL."""
    _sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _sql(f"CREATE DATABASE {name} TEMPLATE {template}")
    return url(name)
