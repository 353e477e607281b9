"""SQLite's search index merges its segments beside the writer, not inside commits.

Revision ID: 0005_search_merges
Revises: 0004_features
Create Date: 2026-11-26

FTS5 writes a new index segment with every transaction and merges segments as they pile
up, inside whichever transaction tips a level over: with small group-commit batches the
merges fell behind and came due all at once, as one merge of the whole level inside one
batch's commit (36 ms at 100,000 messages, and growing with the history). Here FTS5
stops merging by itself (automerge 0) and the writer process merges in bounded steps
between batches (parley.store.writer_process); a level of 16 segments is merged, and
64 forces it as before, should the steps ever fall behind.
"""

from alembic import op

revision = "0005_search_merges"
down_revision = "0004_features"
branch_labels = None
depends_on = None


def _configure(automerge: int, usermerge: int, crisismerge: int) -> None:
    for name, value in (
        ("automerge", automerge),
        ("usermerge", usermerge),
        ("crisismerge", crisismerge),
    ):
        op.execute(f"INSERT INTO messages_fts(messages_fts, rank) VALUES ('{name}', {value})")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _configure(automerge=0, usermerge=16, crisismerge=64)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _configure(automerge=4, usermerge=4, crisismerge=16)  # FTS5's defaults
