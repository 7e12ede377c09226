"""Index sales by meter and time: a sale's month reads only its own meter's rows.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 08:30:00

The lock statement of every sale sums the meter's units this month and finds
its last monthly fixed charge. With one index on ``meter_id`` and another on
``created_at``, PostgreSQL's generic plan (the sale pool plans each statement
once per connection) joined the two, reading the index entries of *every*
sale of the month: a cost that grows with the whole utility's sales, on the
hot path. One index on ``(meter_id, created_at)`` answers both reads from the
meter's own rows, and serves every lookup by ``meter_id`` alone, so it
replaces ``ix_sales_meter_id``.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index("ix_sales_meter_id_created_at", ["meter_id", "created_at"])
        batch_op.drop_index("ix_sales_meter_id")


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index("ix_sales_meter_id", ["meter_id"], unique=False)
        batch_op.drop_index("ix_sales_meter_id_created_at")
