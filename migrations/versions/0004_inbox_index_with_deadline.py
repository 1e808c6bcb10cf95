"""inbox index ordered by deadline, then age

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_inbox")
        batch_op.create_index(
            "ix_human_task_inbox",
            ["state", "organisation", "candidate_role", "due_at", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_inbox")
        batch_op.create_index(
            "ix_human_task_inbox", ["state", "organisation", "candidate_role", "created_at"], unique=False
        )
