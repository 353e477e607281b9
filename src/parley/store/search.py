"""Full-text search over message bodies: SQLite FTS5 or PostgreSQL tsvector, by dialect.

The expressions here must match the ones the migration (0004_features) indexes:
the ``messages_fts`` FTS5 table on SQLite, ``to_tsvector('simple', body)`` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.domain.models import Message
from parley.store.messages import decorated
from parley.store.schema import memberships, messages, users

_fts = sa.table("messages_fts", sa.column("rowid"))
_PG_CONFIG: sa.ColumnClause[Any] = sa.literal_column("'simple'::regconfig")


def _base(user_id: int, room_id: int | None, author_id: int | None) -> sa.Select:  # type: ignore[type-arg]
    query = (
        sa.select(
            messages,
            users.c.username,
            users.c.display_name,
            users.c.created_at.label("author_created_at"),
        )
        .join(users, users.c.id == messages.c.author_id)
        # Only rooms the searcher is a member of, checked in the same statement.
        .join(
            memberships,
            sa.and_(memberships.c.room_id == messages.c.room_id, memberships.c.user_id == user_id),
        )
        .where(messages.c.deleted_at.is_(None))
    )
    if room_id is not None:
        query = query.where(messages.c.room_id == room_id)
    if author_id is not None:
        query = query.where(messages.c.author_id == author_id)
    return query


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
    ) -> list[Message]:
        """Messages matching every term (as a word prefix), best first."""
        query = _base(user_id, room_id, author_id)
        if self._engine.dialect.name == "postgresql":
            tsquery = " & ".join(f"{t}:*" for t in terms)
            vector = sa.func.to_tsvector(_PG_CONFIG, messages.c.body)
            match = sa.func.to_tsquery(_PG_CONFIG, tsquery)
            query = query.where(vector.op("@@")(match)).order_by(
                sa.func.ts_rank(vector, match).desc(), messages.c.id.desc()
            )
        else:
            # Each term quoted (no FTS syntax from users) and matched as a prefix.
            fts_query = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
            query = (
                query.join(_fts, _fts.c.rowid == messages.c.id)
                .where(sa.text("messages_fts MATCH :fts_query").bindparams(fts_query=fts_query))
                .order_by(sa.text("bm25(messages_fts)"), messages.c.id.desc())
            )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit))).all()
            return await decorated(conn, rows)
