"""Notifications: email addresses, Web Push subscriptions, per-room levels, do not disturb.

Revision ID: 0011_notifications
Revises: 0010_threads
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_notifications"
down_revision = "0010_threads"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("email_verified_at", TIME, nullable=True))
    with op.batch_alter_table("memberships") as batch:
        # all / mentions / nothing; NULL: the default (all in a DM, mentions elsewhere).
        batch.add_column(sa.Column("notify_level", sa.String(16), nullable=True))
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("endpoint_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_push_subscriptions_user_id", "push_subscriptions", ["user_id"])
    op.create_table(
        "notification_prefs",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("hide_content", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("email_digest", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("dnd_until", TIME, nullable=True),
        # A daily quiet time: minutes after midnight in dnd_timezone; start == end is none.
        sa.Column("dnd_start", sa.Integer, nullable=True),
        sa.Column("dnd_end", sa.Integer, nullable=True),
        sa.Column("dnd_timezone", sa.String(64), nullable=False, server_default="UTC"),
        # Mentions up to this time are settled (emailed, or read before their turn).
        sa.Column("digest_upto", TIME, nullable=True),
        sa.Column("digest_sent_at", TIME, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notification_prefs")
    op.drop_table("push_subscriptions")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("notify_level")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")
        batch.drop_column("email")
