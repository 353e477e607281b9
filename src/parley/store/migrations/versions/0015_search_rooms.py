"""SQLite's search index knows each message's room, so a search in a small room is cheap.

Revision ID: 0015_search_rooms
Revises: 0014_push
Create Date: 2026-12-07

The search walks the text index newest first and keeps the matches in the searcher's
rooms. When those rooms hold a small share of the history that walk went through most
of a common word's postings: "the" in a room of 900 messages, in a store of 10 million,
took 18 s (bench/datascale.py). Here the FTS5 table gets a ``room`` column holding the
message's room id as a word, so the room condition is part of the text query and FTS5
intersects the word's postings with the room's (seeking, not walking). The content comes
from the view ``messages_search`` (the messages' columns plus the room id as text); the
triggers write the room with every insert, delete and edit. PostgreSQL is unchanged.

Rebuilding the index reads every message once: about a minute per million messages on
a small machine (docs/performance.md, "Data scale").
"""

from alembic import op

revision = "0015_search_rooms"
down_revision = "0014_push"
branch_labels = None
depends_on = None

TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")
TOKENIZE = "porter unicode61 remove_diacritics 2"
# The merge settings of 0005_search_merges live in the FTS table: set them again.
MERGES = (("automerge", 0), ("usermerge", 16), ("crisismerge", 64))


def _drop() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS messages_fts")
    op.execute("DROP VIEW IF EXISTS messages_search")


def _create(columns: tuple[str, ...], content: str, values: dict[str, str]) -> None:
    cols = ", ".join(columns)

    def row(prefix: str) -> str:
        return ", ".join(values[c].format(row=prefix) for c in columns)

    for statement in (
        f"CREATE VIRTUAL TABLE messages_fts USING fts5({cols}, content='{content}', "
        f"content_rowid='id', tokenize='{TOKENIZE}')",
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        f"INSERT INTO messages_fts(rowid, {cols}) VALUES (new.id, {row('new')}); END",
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        f"INSERT INTO messages_fts(messages_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {row('old')}); END",
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, file_names ON messages "
        f"BEGIN INSERT INTO messages_fts(messages_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {row('old')}); "
        f"INSERT INTO messages_fts(rowid, {cols}) VALUES (new.id, {row('new')}); END",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
        *(
            f"INSERT INTO messages_fts(messages_fts, rank) VALUES ('{name}', {value})"
            for name, value in MERGES
        ),
    ):
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    op.execute(
        "CREATE VIEW messages_search AS "
        "SELECT id, body, file_names, CAST(room_id AS TEXT) AS room FROM messages"
    )
    _create(
        ("body", "file_names", "room"),
        "messages_search",
        {
            "body": "{row}.body",
            "file_names": "{row}.file_names",
            "room": "CAST({row}.room_id AS TEXT)",
        },
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    _create(
        ("body", "file_names"),
        "messages",
        {"body": "{row}.body", "file_names": "{row}.file_names"},
    )
