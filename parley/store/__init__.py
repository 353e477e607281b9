"""Storage: every SQL statement of Parley lives in this package.

:class:`Store` is the one interface the domain sees. It works on SQLite (aiosqlite, WAL)
and PostgreSQL (asyncpg) with the same schema, created by the Alembic migrations.
"""

from parley.store.database import Store, open_store

__all__ = ["Store", "open_store"]
