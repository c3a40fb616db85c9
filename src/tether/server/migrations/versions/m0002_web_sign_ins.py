"""Sign-ins to the server's web pages: a one-time link a device asks for, then the browser's
session cookie it is exchanged for.

Revision ID: m0002_web_sign_ins
Revises: m0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "m0002_web_sign_ins"
down_revision = "m0001_initial"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_sign_ins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("key", sa.String(32), nullable=False, unique=True),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("secret_hash", sa.String(64)),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_sign_ins")
