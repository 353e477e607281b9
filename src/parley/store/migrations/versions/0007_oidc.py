"""OpenID Connect sign-in: identities linked to accounts, and sign-ins in progress.

Revision ID: 0007_oidc
Revises: 0006_search_files_stems
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_oidc"
down_revision = "0006_search_files_stems"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "oidc_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("issuer", "subject", name="uq_oidc_links_subject"),
        sa.UniqueConstraint("issuer", "user_id", name="uq_oidc_links_user"),
    )
    op.create_index("ix_oidc_links_user_id", "oidc_links", ["user_id"])
    op.create_table(
        "oidc_logins",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("link_user_id", sa.Integer, nullable=True),
        sa.Column("address", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_oidc_logins_created_at", "oidc_logins", ["created_at"])


def downgrade() -> None:
    op.drop_table("oidc_logins")
    op.drop_table("oidc_links")
