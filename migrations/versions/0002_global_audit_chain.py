"""unique seq for audit events that belong to no case

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ux_audit_event_global_seq",
        "audit_event",
        ["seq"],
        unique=True,
        sqlite_where=sa.text("instance_id IS NULL"),
        postgresql_where=sa.text("instance_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ux_audit_event_global_seq", table_name="audit_event")
