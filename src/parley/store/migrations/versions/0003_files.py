"""Files and the links between messages and their attachments.

Revision ID: 0003_files
Revises: 0002_twofactor
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_files"
down_revision = "0002_twofactor"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("uploader_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("thumb_key", sa.String(64), nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_files_uploader_id", "files", ["uploader_id"])
    op.create_index("ix_files_blob_key", "files", ["blob_key"])
    op.create_index("ix_files_thumb_key", "files", ["thumb_key"])
    op.create_index("ix_files_created_at", "files", ["created_at"])
    op.create_table(
        "message_files",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("file_id", sa.String(32), sa.ForeignKey("files.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_message_files_file_id", "message_files", ["file_id"])


def downgrade() -> None:
    op.drop_table("message_files")
    op.drop_table("files")
