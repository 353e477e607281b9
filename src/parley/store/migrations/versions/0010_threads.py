"""Threads (replies under a root message, followers and their read markers), pins, saved
messages, and the read-receipts setting.

Revision ID: 0010_threads
Revises: 0009_lifecycle
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_threads"
down_revision = "0009_lifecycle"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("read_receipts", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.add_column("messages", sa.Column("thread_root_id", sa.Integer, nullable=True))
    op.add_column(
        "messages",
        sa.Column("also_to_room", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_messages_thread_root_seq", "messages", ["thread_root_id", "seq"])
    op.create_table(
        "thread_follows",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("root_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("read_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_thread_follows_root_id", "thread_follows", ["root_id"])
    op.create_table(
        "pins",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("pinned_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_pins_room_id", "pins", ["room_id"])
    op.create_table(
        "saved_messages",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("saved_messages")
    op.drop_index("ix_pins_room_id", table_name="pins")
    op.drop_table("pins")
    op.drop_index("ix_thread_follows_root_id", table_name="thread_follows")
    op.drop_table("thread_follows")
    op.drop_index("ix_messages_thread_root_seq", table_name="messages")
    op.drop_column("messages", "also_to_room")
    op.drop_column("messages", "thread_root_id")
    op.drop_column("users", "read_receipts")
