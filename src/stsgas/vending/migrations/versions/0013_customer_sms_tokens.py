"""Customers may ask for their tokens by SMS after every sale (opt-in).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:10:00

Existing customers are opted out: nobody starts getting SMS they did not ask for.
The column is added and dropped in place (no batch copy of the table): a copy
would lose the triggers on ``customers`` (the wallet made with each customer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "customers",
        sa.Column("sms_tokens", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.execute("ALTER TABLE customers DROP COLUMN sms_tokens")  # SQLite 3.35+ and PostgreSQL
