"""index messages.image_id: the file sweep asks which images messages still use

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_image_id", "messages", ["image_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_image_id", table_name="messages")
