"""The first schema: users and their devices, teams, chunks, sessions, search, handoffs.

Revision ID: m0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "m0001_initial"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    _people()
    _chunks()
    _sessions()
    _search()
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_pk",
            sa.Integer,
            sa.ForeignKey("sessions.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "from_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "to_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("note", sa.Text),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN),
    )
    op.create_index("ix_handoffs_to_id", "handoffs", ["to_id"])


def _people() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("code_hash", sa.String(200)),
        sa.Column("code_expires_at", WHEN),
        sa.Column("code_failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN),
    )
    op.create_index("ix_devices_user_id", "devices", ["user_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column(
            "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])


def _chunks() -> None:
    op.create_table(
        "chunks",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("stored_size", sa.Integer, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "chunk_owners",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "hash",
            sa.String(64),
            sa.ForeignKey("chunks.hash", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_chunk_owners_hash", "chunk_owners", ["hash"])
    op.create_table(
        "counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO counter (id, value) VALUES (1, 0)")


def _sessions() -> None:
    op.create_table(
        "sessions",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column(
            "owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(32), nullable=False),
        sa.Column("native_id", sa.String(256), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("project", sa.Text),
        sa.Column("cwd", sa.Text),
        sa.Column("git_branch", sa.Text),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_remote", sa.Text),
        sa.Column("created_at", sa.String(40)),
        sa.Column("updated_at", sa.String(40)),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("models", sa.Text, nullable=False, server_default="[]"),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("parent_how", sa.String(16)),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="SET NULL")),
        sa.Column("device_name", sa.String(64)),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("text_pieces", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pushed_at", WHEN, nullable=False),
        sa.Column("change", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("owner_id", "session_id", name="sessions_owner_session"),
    )
    op.create_index("sessions_change", "sessions", ["change"])
    op.create_index("sessions_session_id", "sessions", ["session_id"])
    op.create_index("ix_sessions_team_id", "sessions", ["team_id"])
    op.create_table(
        "session_sources",
        sa.Column(
            "session_pk",
            sa.Integer,
            sa.ForeignKey("sessions.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "session_chunks",
        sa.Column(
            "session_pk",
            sa.Integer,
            sa.ForeignKey("sessions.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
    )
    op.create_index("ix_session_chunks_hash", "session_chunks", ["hash"])


def _search() -> None:
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_pk",
            sa.Integer,
            sa.ForeignKey("sessions.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("search_docs_session", "search_docs", ["session_pk", "seq"])
    if op.get_bind().dialect.name == "postgresql":
        # 'simple': no stemming, no stop words: code and identifiers are searched as typed.
        op.execute(
            "ALTER TABLE search_docs ADD COLUMN tsv tsvector"
            " GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED"
        )
        op.execute("CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv)")
        return
    # SQLite: an FTS5 index over search_docs.text, kept in step by triggers (a cascade
    # delete of a session fires them too).
    op.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5(text, content='search_docs',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN"
        " INSERT INTO search_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.id, old.text);"
        " END"
    )
