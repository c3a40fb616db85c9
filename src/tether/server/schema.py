"""The server's tables, one schema for SQLite and PostgreSQL (SQLAlchemy Core).

Migrations (tether.server.migrations, Alembic) create and change them; this module is what
the queries are written against. Every row a user can reach hangs off `users`: removing a
user removes what they pushed, their devices and the handoffs to and from them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

NAME = 64
HASH = 64
"""sha256, hex."""

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("code_hash", String(200)),
    # argon2 hash of the one-time enrolment code (NULL once used or never made).
    Column("code_expires_at", DateTime(timezone=True)),
    Column("code_failures", Integer, nullable=False, server_default="0"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(NAME), nullable=False),
    Column("token_id", String(32), nullable=False, unique=True),
    # The public half of a device token: how a request's token is found.
    Column("token_hash", String(HASH), nullable=False),
    # sha256 of the secret half (256 random bits: a slow hash adds nothing).
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True)),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

chunks = Table(
    "chunks",
    metadata,
    Column("hash", String(HASH), primary_key=True),
    # sha256 of the raw (uncompressed) bytes: the object's key in storage.
    Column("size", Integer, nullable=False),
    Column("stored_size", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

chunk_owners = Table(
    "chunk_owners",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("hash", ForeignKey("chunks.hash", ondelete="CASCADE"), primary_key=True, index=True),
)
"""Who uploaded a chunk's bytes: a chunk is yours once you sent it, or through a session
you may see that holds it. Anyone else is told it does not exist."""

counter = Table(
    "counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)
"""One row: the last change number given out. Taken under a row lock as a push commits,
so change numbers commit in order and a reader's cursor never skips one."""

sessions = Table(
    "sessions",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("owner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", String(HASH), nullable=False),
    # tether's id: sha256 of tool and native id.
    Column("tool", String(32), nullable=False),
    Column("native_id", String(256), nullable=False),
    Column("title", Text),
    Column("project", Text),
    Column("cwd", Text),
    Column("git_branch", Text),
    Column("git_commit", String(64)),
    Column("git_remote", Text),
    Column("created_at", String(40)),
    Column("updated_at", String(40)),
    Column("message_count", Integer, nullable=False, server_default="0"),
    Column("models", Text, nullable=False, server_default="[]"),
    Column("parent_id", String(HASH)),
    # The session this one continues (on another machine, in another tool), if any.
    Column("parent_how", String(16)),
    Column("device_id", ForeignKey("devices.id", ondelete="SET NULL")),
    Column("device_name", String(NAME)),
    Column("team_id", ForeignKey("teams.id", ondelete="SET NULL"), index=True),
    Column("revision", String(HASH), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("text_pieces", Integer, nullable=False, server_default="0"),
    Column("pushed_at", DateTime(timezone=True), nullable=False),
    Column("change", BigInteger, nullable=False),
    UniqueConstraint("owner_id", "session_id", name="sessions_owner_session"),
    Index("sessions_change", "change"),
    Index("sessions_session_id", "session_id"),
    Index("sessions_updated", "updated_at", "pk"),
    Index("sessions_native_id", "native_id"),
    Index("sessions_parent_id", "parent_id"),
)

session_sources = Table(
    "session_sources",
    metadata,
    Column("session_pk", ForeignKey("sessions.pk", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
)

session_chunks = Table(
    "session_chunks",
    metadata,
    Column("session_pk", ForeignKey("sessions.pk", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("hash", String(HASH), nullable=False, index=True),
    Column("offset", BigInteger, nullable=False),
    Column("length", Integer, nullable=False),
)

search_docs = Table(
    "search_docs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_pk", ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Index("search_docs_session", "session_pk", "seq"),
)
"""A session's searchable text, in pieces (an append adds pieces). SQLite indexes it with
FTS5 (`search_fts`), PostgreSQL with a generated tsvector column (`tsv`) and a GIN index:
both are made by the migration, outside this table's Core definition."""

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_pk", ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
    Column("from_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("to_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True)),
)

web_sign_ins = Table(
    "web_sign_ins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    # The device that asked for it: revoking the device signs its browsers out.
    Column("key", String(32), nullable=False, unique=True),
    # The public half of the one-time code and of the cookie: how either is found.
    Column("code_hash", String(HASH)),
    # sha256 of the one-time code's secret; NULL once it was exchanged for a cookie.
    Column("secret_hash", String(HASH)),
    # sha256 of the cookie's secret; NULL until the code was exchanged.
    Column("csrf", String(HASH), nullable=False),
    # The token every form of this sign-in carries back.
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""A browser's sign-in to the web pages: first a one-time code (minutes), exchanged once for
a session cookie (days). Both are `<key>.<secret>`; only hashes of the secrets are kept."""
