"""Operator access: activation by a second admin, forced password change, lockout per
account and source, idempotency keys scoped to the operator.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:30:00

Accounts that exist already count as activated (they were set up before the
rule), so an upgrade locks nobody out. The old per-account counters on
``operators`` stay but are no longer written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled_by_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("activated_by_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_operators_enabled_by_id_operators"),
            "operators",
            ["enabled_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_operators_activated_by_id_operators"),
            "operators",
            ["activated_by_id"],
            ["id"],
        )
    op.execute("UPDATE operators SET activated_at = created_at")
    op.create_table(
        "login_failures",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sa.UniqueConstraint("username", "source", name=op.f("uq_login_failures_username_source")),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sales_channel_idempotency_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_sales_operator_id_channel_idempotency_key"),
            ["operator_id", "channel", "idempotency_key"],
        )


def downgrade() -> None:
    """Undo this revision (fails if two operators used one key on one channel)."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_sales_operator_id_channel_idempotency_key"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_sales_channel_idempotency_key"), ["channel", "idempotency_key"]
        )
    op.drop_table("login_failures")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_operators_activated_by_id_operators"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_operators_enabled_by_id_operators"), type_="foreignkey"
        )
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("activated_at")
        batch_op.drop_column("activated_by_id")
        batch_op.drop_column("enabled_by_id")
