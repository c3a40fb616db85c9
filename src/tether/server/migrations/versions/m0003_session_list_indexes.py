"""Indexes the web pages' queries need at tens of thousands of sessions: the list newest
first (read in the order of `updated_at` and stopped after a page), a session found by the
tool's own id, and a session's children (lineage).

Revision ID: m0003_session_list_indexes
Revises: m0002_web_sign_ins
"""

from __future__ import annotations

from alembic import op

revision = "m0003_session_list_indexes"
down_revision = "m0002_web_sign_ins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("sessions_updated", "sessions", ["updated_at", "pk"])
    op.create_index("sessions_native_id", "sessions", ["native_id"])
    op.create_index("sessions_parent_id", "sessions", ["parent_id"])


def downgrade() -> None:
    op.drop_index("sessions_parent_id", "sessions")
    op.drop_index("sessions_native_id", "sessions")
    op.drop_index("sessions_updated", "sessions")
