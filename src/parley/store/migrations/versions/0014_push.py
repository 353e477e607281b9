"""Web Push: the server's own keys (VAPID), shared by every process of the database, and
the session each push subscription was made in (it ends with that session).

Revision ID: 0014_push
Revises: 0013_people
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_push"
down_revision = "0013_people"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    with op.batch_alter_table("push_subscriptions") as batch:
        batch.add_column(sa.Column("session_id", sa.String(32), nullable=True))
    op.create_index(
        "ix_push_subscriptions_session_id", "push_subscriptions", ["session_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_push_subscriptions_session_id", "push_subscriptions")
    with op.batch_alter_table("push_subscriptions") as batch:
        batch.drop_column("session_id")
    op.drop_table("server_keys")
