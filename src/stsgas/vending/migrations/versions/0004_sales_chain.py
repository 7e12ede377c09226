"""A per-meter hash chain of sales: sales.chain_hash and meters.sales_head.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 04:10:00

Sales made before this revision stay unlinked; each meter's chain starts at
its next sale (``sales/chain.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sales_head", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_column("sales_head")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("chain_hash")
