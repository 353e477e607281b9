"""PostgreSQL keeps each message's search vector, so a common word's search is cheap.

Revision ID: 0016_pg_search_vector
Revises: 0015_search_rooms
Create Date: 2026-12-07

The search ranks the newest RANK_WINDOW matches (parley/store/search.py). For a common
word PostgreSQL finds them by walking the messages newest first and testing each, and
the GIN index of 0006_search_files_stems was over an expression: every row walked was
parsed and stemmed again (``to_tsvector``), 20-25 µs each. "lacas", a word in 9 % of a
10M-message store, took 280 ms for one room (bench/datascale.py). Here the vector is a
stored generated column, ``search_vector``, and the GIN index is over it: the walk tests
a stored vector (7-10 times faster, measured on a copy of the newest million messages),
and ranking reads it instead of parsing the body a second time. It costs its bytes:
about 126 per message in that store.

Adding the column rewrites the messages table once (each row parsed once; minutes per
10M messages, with the table locked). SQLite is unchanged.
"""

from alembic import op

revision = "0016_pg_search_vector"
down_revision = "0015_search_rooms"
branch_labels = None
depends_on = None

# The same document as 0006_search_files_stems indexed, and search.py matches.
DOCUMENT = (
    "to_tsvector('english'::regconfig, "
    "body || ' ' || translate(coalesce(file_names, ''), '._-', '   '))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Dropped first: the column's table rewrite rebuilds every index of the table, and
    # rebuilding this one would parse every message a second time.
    op.execute("DROP INDEX IF EXISTS ix_messages_search_tsv")
    op.execute(
        f"ALTER TABLE messages ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )
    op.execute("CREATE INDEX ix_messages_search_vector ON messages USING GIN (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE messages DROP COLUMN search_vector")  # and its index
    op.execute(f"CREATE INDEX ix_messages_search_tsv ON messages USING GIN ({DOCUMENT})")
