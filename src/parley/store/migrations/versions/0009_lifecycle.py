"""Account deletion, retention, Slack import: the columns and tables they need.

Revision ID: 0009_lifecycle
Revises: 0008_passkeys
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_lifecycle"
down_revision = "0008_passkeys"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("deleted_at", TIME, nullable=True))
        batch.add_column(
            sa.Column("erase_pending", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer, nullable=True))
    op.create_index("ix_messages_author_id", "messages", ["author_id"])
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_table(
        "slack_imports",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("slack_id", sa.String(128), primary_key=True),
        sa.Column("parley_id", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_imports")
    op.drop_table("job_leases")
    op.drop_index("ix_messages_author_id", "messages")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("retention_days")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("erase_pending")
        batch.drop_column("deleted_at")
