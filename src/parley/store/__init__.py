"""Storage: every SQL statement of Parley lives in this package.

:class:`Store` is the one interface the domain sees. It works on SQLite (aiosqlite, WAL)
and PostgreSQL (asyncpg) with the same schema, created by the Alembic migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.store.database import Store, open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, not on import of any submodule: the SQLite writer process
    # imports only the plain sqlite3 modules of this package and starts in a tenth of
    # the time that SQLAlchemy and Alembic take to import.
    if name in __all__:
        from parley.store import database

        return getattr(database, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
