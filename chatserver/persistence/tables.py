"""Table definitions (SQLAlchemy Core). They mirror the DynamoDB design of the seed apps.

Timestamps are ISO 8601 UTC strings with milliseconds and `Z`, as DynamoDB items hold them: they sort correctly
as text on every engine and go to clients unchanged.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("room_id", String(128), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("text", Text, nullable=True),
    Column("image_id", String(64), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    # The `messages-by-room-id` GSI: partition room_id, sort createdAt, ties broken by id.
    Index("ix_messages_by_room_id", "room_id", "created_at", "id"),
    Index("ix_messages_image_id", "image_id"),  # the file sweep's "still in use?" lookup
)

# Profile rows, written by the post-confirmation hook as the seed's Lambda trigger did. id = the auth `sub`.
users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("email", String(320), nullable=True),
    Column("given_name", Text, nullable=True),
    Column("family_name", Text, nullable=True),
    Column("created_at", String(32), nullable=False),
)

# The auth store (Cognito's part).
accounts = Table(
    "accounts",
    metadata,
    Column("sub", String(64), primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("email", String(320), nullable=False),
    Column("given_name", Text, nullable=True),
    Column("family_name", Text, nullable=True),
    Column("status", String(32), nullable=False),  # UNCONFIRMED | CONFIRMED
    Column("created_at", String(32), nullable=False),
    # Global sign-out: every token with auth_time/iat before this epoch second is rejected.
    Column("tokens_valid_after", BigInteger, nullable=False, default=0),
    # SRP (Cognito's USER_SRP_AUTH): salt and verifier v = g^x mod N as hex, set whenever the password is seen.
    Column("srp_salt", Text, nullable=True),
    Column("srp_verifier", Text, nullable=True),
)

groups = Table(
    "groups",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("description", Text, nullable=True),
)

account_groups = Table(
    "account_groups",
    metadata,
    Column("sub", String(64), ForeignKey("accounts.sub", ondelete="CASCADE"), nullable=False),
    Column("group_name", String(128), ForeignKey("groups.name", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("sub", "group_name"),
)

# Confirmation and password-reset codes: hashed, single use, expiring.
auth_codes = Table(
    "auth_codes",
    metadata,
    Column("sub", String(64), ForeignKey("accounts.sub", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),  # signup | reset
    Column("code_hash", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("sub", "purpose"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("sub", String(64), ForeignKey("accounts.sub", ondelete="CASCADE"), nullable=False),
    Column("origin_jti", String(64), nullable=False),
    Column("auth_time", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revoked_at", BigInteger, nullable=True),  # RevokeToken: other replicas pick it up from here
    Index("ix_refresh_tokens_sub", "sub"),
    Index("ix_refresh_tokens_revoked_at", "revoked_at"),
)

# SRP handshakes finished (the id sealed in each SECRET_BLOCK), kept until the block expires: single use on
# every replica.
srp_handshakes_used = Table(
    "srp_handshakes_used",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_srp_handshakes_used_expires_at", "expires_at"),
)

files = Table(
    "files",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("image_id", String(64), nullable=False, unique=True),
    Column("owner", String(128), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # pending | complete
    Column("created_at", String(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # pending uploads die after the URL's life
    Column("etag", String(64), nullable=True),
)

# API keys (the API_KEY auth mode): only an HMAC of each key is stored; times are epoch seconds.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
)
