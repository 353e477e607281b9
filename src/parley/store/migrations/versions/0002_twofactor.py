"""Two-factor sign-in: recovery codes, and the last TOTP step used (no replays).

Revision ID: 0002_twofactor
Revises: 0001_core
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_twofactor"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger, nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
