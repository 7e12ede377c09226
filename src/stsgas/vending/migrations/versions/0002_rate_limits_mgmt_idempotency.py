"""Rate-limit counters on vendors and customers; idempotency keys on management requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:20:00

The counters live on rows a sale already locks or updates, so a limit costs
no extra round trip and holds across server processes (V4). Existing rows
start with an empty window.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sales_per_minute", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("rate_window", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rate_count", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rate_window", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rate_count", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_management_requests_requested_by_id_idempotency_key"),
            ["requested_by_id", "idempotency_key"],
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_management_requests_requested_by_id_idempotency_key"), type_="unique"
        )
        batch_op.drop_column("request_fingerprint")
        batch_op.drop_column("idempotency_key")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("rate_count")
        batch_op.drop_column("rate_window")
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.drop_column("rate_count")
        batch_op.drop_column("rate_window")
        batch_op.drop_column("sales_per_minute")
