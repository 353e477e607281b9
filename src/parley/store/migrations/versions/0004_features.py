"""Team features: reactions, mentions, mutes, bans, invites, archive, webhooks, bots, search.

Revision ID: 0004_features
Revises: 0003_files
Create Date: 2026-11-26

Full-text search is per engine: SQLite gets an FTS5 table kept in sync by triggers,
PostgreSQL a GIN index over to_tsvector('simple', body). The store picks the query
by dialect (parley/store/search.py) and must use the same expressions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_features"
down_revision = "0003_files"
branch_labels = None
depends_on = None

TIME = sa.String(32)

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
PG_FTS = [
    "CREATE INDEX ix_messages_body_tsv ON messages USING GIN (to_tsvector('simple', body))",
]


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("is_bot", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("bot_owner_id", sa.Integer, nullable=True))
    op.add_column("rooms", sa.Column("archived_at", TIME, nullable=True))
    op.add_column(
        "memberships", sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "messages",
        sa.Column("mentions_room", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "reactions",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("emoji", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "message_mentions",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("room_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_message_mentions_user_room_seq", "message_mentions", ["user_id", "room_id", "seq"]
    )
    op.create_table(
        "room_bans",
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("banned_by", sa.Integer, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "room_invites",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_index("ix_room_invites_room_id", "room_invites", ["room_id"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("bot_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_webhooks_room_id", "webhooks", ["room_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in PG_FTS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_body_tsv")
    op.drop_table("webhooks")
    op.drop_table("room_invites")
    op.drop_table("room_bans")
    op.drop_table("message_mentions")
    op.drop_table("reactions")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("mentions_room")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("muted")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("archived_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("bot_owner_id")
        batch.drop_column("is_bot")
