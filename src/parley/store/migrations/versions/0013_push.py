"""Web Push: the server's own keys (VAPID), shared by every process of the database.

Revision ID: 0013_push
Revises: 0012_admin
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_push"
down_revision = "0012_admin"
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


def downgrade() -> None:
    op.drop_table("server_keys")
