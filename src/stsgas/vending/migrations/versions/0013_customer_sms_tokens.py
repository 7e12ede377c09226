"""Customers may ask for their tokens by SMS after every sale (opt-in).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-05 01:10:00

Existing customers are opted out: nobody starts getting SMS they did not ask for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_tokens", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("sms_tokens")
