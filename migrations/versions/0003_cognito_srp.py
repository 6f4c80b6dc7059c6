"""Cognito wire API: SRP verifiers, single-use SECRET_BLOCKs, admin-created users (issue 13)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts made before this revision have no verifier: they get one at their next password sign-in.
    op.add_column("accounts", sa.Column("srp_salt", sa.Text, nullable=True))
    op.add_column("accounts", sa.Column("srp_verifier", sa.Text, nullable=True))
    op.add_column("refresh_tokens", sa.Column("revoked_at", sa.BigInteger, nullable=True))
    op.create_index("ix_refresh_tokens_revoked_at", "refresh_tokens", ["revoked_at"])
    op.create_table(
        "srp_handshakes_used",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_srp_handshakes_used_expires_at", "srp_handshakes_used", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_srp_handshakes_used_expires_at", table_name="srp_handshakes_used")
    op.drop_table("srp_handshakes_used")
    op.drop_index("ix_refresh_tokens_revoked_at", table_name="refresh_tokens")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("revoked_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("srp_verifier")
        batch.drop_column("srp_salt")
