"""People and link previews: avatars, profiles, statuses, custom emoji, link previews.

Revision ID: 0013_people
Revises: 0012_admin
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_people"
down_revision = "0012_admin"
branch_labels = None
depends_on = None

TIME = sa.String(32)

def user_columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    return (
        sa.Column("pronouns", sa.String(40), nullable=False, server_default=""),
        sa.Column("title", sa.String(80), nullable=False, server_default=""),
        sa.Column("timezone", sa.String(64), nullable=False, server_default=""),
        sa.Column("avatar_version", sa.String(24), nullable=True),
        sa.Column("status", sa.String(8), nullable=True),
        sa.Column("status_text", sa.String(400), nullable=False, server_default=""),
        sa.Column("status_expires_at", TIME, nullable=True),
        sa.Column("previews_show", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("previews_generate", sa.Boolean, nullable=False, server_default=sa.true()),
    )


def upgrade() -> None:
    for column in user_columns():
        op.add_column("users", column)
    op.add_column(
        "rooms", sa.Column("previews", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.create_table(
        "avatars",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("size", sa.Integer, primary_key=True),
        sa.Column("blob_key", sa.String(64), nullable=False, index=True),
        sa.Column("content_type", sa.String(32), nullable=False),
    )
    op.create_table(
        "custom_emoji",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("blob_key", sa.String(64), nullable=False, index=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=True, index=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "link_previews",
        sa.Column("url_hash", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("title", sa.String(300), nullable=False, server_default=""),
        sa.Column("description", sa.String(600), nullable=False, server_default=""),
        sa.Column("site_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("image_key", sa.String(64), nullable=True, index=True),
        sa.Column("image_type", sa.String(32), nullable=True),
        sa.Column("fetched_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False, index=True),
    )
    op.create_table(
        "message_previews",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("room_id", sa.Integer, nullable=False),
        sa.Column("url_hash", sa.String(64), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("message_previews")
    op.drop_table("link_previews")
    op.drop_table("custom_emoji")
    op.drop_table("avatars")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("previews")
    with op.batch_alter_table("users") as batch:
        for column in reversed(user_columns()):
            batch.drop_column(column.name)
