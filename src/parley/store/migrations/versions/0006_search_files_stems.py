"""Search finds attached files by name, and English words by their stem.

Revision ID: 0006_search_files_stems
Revises: 0005_search_merges
Create Date: 2026-11-27

Messages get ``file_names`` (their files' names, one per line, written with the message
by the batch writers) and the index covers it beside the body. Words are stemmed where
the engine offers it: SQLite's FTS5 table is rebuilt with the ``porter`` tokenizer over
``unicode61`` (English stems; other languages are matched by prefix as before), and on
PostgreSQL the GIN index is over ``to_tsvector('english', ...)`` (with the names'
dots, dashes and underscores read as spaces: its parser would keep "q3-report.pdf"
whole). The store's queries
(parley/store/search.py) must use the same expressions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_search_files_stems"
down_revision = "0005_search_merges"
branch_labels = None
depends_on = None

TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")
# The merge settings of 0005_search_merges live in the FTS table: set them again.
MERGES = (("automerge", 0), ("usermerge", 16), ("crisismerge", 64))


def _sqlite_index(columns: tuple[str, ...], tokenize: str) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE messages_fts USING fts5({cols}, content='messages', "
        f"content_rowid='id', tokenize='{tokenize}')",
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        f"INSERT INTO messages_fts(rowid, {cols}) VALUES (new.id, {new}); END",
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        f"INSERT INTO messages_fts(messages_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER messages_fts_update AFTER UPDATE OF {cols} ON messages BEGIN "
        f"INSERT INTO messages_fts(messages_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO messages_fts(rowid, {cols}) VALUES (new.id, {new}); END",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
        *(
            f"INSERT INTO messages_fts(messages_fts, rank) VALUES ('{name}', {value})"
            for name, value in MERGES
        ),
    ]


def _drop_sqlite_index() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS messages_fts")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("messages", sa.Column("file_names", sa.Text, nullable=True))
    names = (
        "group_concat(f.name, char(10))" if dialect == "sqlite" else "string_agg(f.name, E'\\n')"
    )
    op.execute(
        f"UPDATE messages SET file_names = (SELECT {names} FROM message_files AS mf "
        "JOIN files AS f ON f.id = mf.file_id WHERE mf.message_id = messages.id) "
        "WHERE deleted_at IS NULL AND id IN (SELECT message_id FROM message_files)"
    )
    if dialect == "sqlite":
        _drop_sqlite_index()
        for statement in _sqlite_index(
            ("body", "file_names"), "porter unicode61 remove_diacritics 2"
        ):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_body_tsv")
        # PostgreSQL's parser reads "q3-report.pdf" as one file-name token: the names'
        # dots, dashes and underscores become spaces, so each word is found.
        op.execute(
            "CREATE INDEX ix_messages_search_tsv ON messages USING GIN "
            "(to_tsvector('english'::regconfig, "
            "body || ' ' || translate(coalesce(file_names, ''), '._-', '   ')))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # Dropping a column rebuilds the table (and drops its triggers): index after.
        _drop_sqlite_index()
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_search_tsv")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("file_names")
    if dialect == "sqlite":
        for statement in _sqlite_index(("body",), "unicode61 remove_diacritics 2"):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_messages_body_tsv ON messages USING GIN (to_tsvector('simple', body))"
        )
