"""Index meters by DRN: a sale or lookup by the number printed on the meter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 03:45:00

Without it, a sale given a DRN (not the 18-digit PAN) scanned every meter.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meters_drn"), ["drn"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meters_drn"))
