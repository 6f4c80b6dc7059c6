"""initial schema: rooms, messages (by-room index), users, auth store, files

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "room_id",
            sa.String(128),
            sa.ForeignKey("rooms.id", ondelete="CASCADE", name="fk_messages_room_id_rooms"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("image_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_messages_by_room_id", "messages", ["room_id", "created_at", "id"])
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("given_name", sa.Text, nullable=True),
        sa.Column("family_name", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "accounts",
        sa.Column("sub", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("given_name", sa.Text, nullable=True),
        sa.Column("family_name", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("tokens_valid_after", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )
    groups = op.create_table(
        "groups",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.bulk_insert(groups, [{"name": "admin", "description": "may delete rooms and any message"}])
    op.create_table(
        "account_groups",
        sa.Column(
            "sub",
            sa.String(64),
            sa.ForeignKey("accounts.sub", ondelete="CASCADE", name="fk_account_groups_sub_accounts"),
            nullable=False,
        ),
        sa.Column(
            "group_name",
            sa.String(128),
            sa.ForeignKey("groups.name", ondelete="CASCADE", name="fk_account_groups_group_name_groups"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sub", "group_name", name="pk_account_groups"),
    )
    op.create_table(
        "auth_codes",
        sa.Column(
            "sub",
            sa.String(64),
            sa.ForeignKey("accounts.sub", ondelete="CASCADE", name="fk_auth_codes_sub_accounts"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("sub", "purpose", name="pk_auth_codes"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(128), primary_key=True),
        sa.Column(
            "sub",
            sa.String(64),
            sa.ForeignKey("accounts.sub", ondelete="CASCADE", name="fk_refresh_tokens_sub_accounts"),
            nullable=False,
        ),
        sa.Column("origin_jti", sa.String(64), nullable=False),
        sa.Column("auth_time", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_refresh_tokens_sub", "refresh_tokens", ["sub"])
    op.create_table(
        "files",
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("image_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=True),
        sa.UniqueConstraint("image_id", name="uq_files_image_id"),
    )


def downgrade() -> None:
    for table in (
        "files",
        "refresh_tokens",
        "auth_codes",
        "account_groups",
        "groups",
        "accounts",
        "users",
        "messages",
        "rooms",
    ):
        op.drop_table(table)
