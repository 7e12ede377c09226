"""Fixed charges per month or per sale, the months a sale paid, meters' recharge limits.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:30:00

Existing tariff versions keep charging per sale; existing meters have no
recharge limit (the meter model's default) until one is set.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("tariff_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fixed_charge_period", sa.String(length=8), server_default="sale", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_tariff_versions_fixed_charge_period"),
            sa.text("fixed_charge_period IN ('sale', 'month')"),
        )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fixed_months", sa.Integer(), nullable=True))
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recharge_limit", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_meters_recharge_limit_positive"), sa.text("recharge_limit > 0")
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_meters_recharge_limit_positive"), type_="check")
        batch_op.drop_column("recharge_limit")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("fixed_months")
    with op.batch_alter_table("tariff_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_tariff_versions_fixed_charge_period"), type_="check")
        batch_op.drop_column("fixed_charge_period")
