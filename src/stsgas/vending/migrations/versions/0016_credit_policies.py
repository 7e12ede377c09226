"""Credit policies: customer classes, a customer's policy (class, debt plan, emergency
credit) and the monthly free-gas grants.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-05 01:40:00

(There is no 0015: numbers were handed out while the work was split; the chain is
0011 readouts, 0012 wallets, 0013 SMS tokens opt-in, 0014 field settings, 0016.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "customer_classes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("free_litres", sa.BigInteger(), nullable=True),
        sa.Column("free_money", sa.BigInteger(), nullable=True),
        sa.Column("emergency_max", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "free_litres IS NULL OR free_litres > 0",
            name=op.f("ck_customer_classes_free_litres_positive"),
        ),
        sa.CheckConstraint(
            "free_money IS NULL OR free_money > 0",
            name=op.f("ck_customer_classes_free_money_positive"),
        ),
        sa.CheckConstraint(
            "emergency_max IS NULL OR emergency_max > 0",
            name=op.f("ck_customer_classes_emergency_max_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_classes")),
        sa.UniqueConstraint("code", name=op.f("uq_customer_classes_code")),
    )
    op.create_table(
        "customer_policies",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("class_id", _ID, nullable=True),
        sa.Column("plan_kind", sa.String(length=8), nullable=True),
        sa.Column("plan_amount", sa.BigInteger(), nullable=True),
        sa.Column("plan_bp", sa.Integer(), nullable=True),
        sa.Column("plan_min", sa.BigInteger(), nullable=True),
        sa.Column("plan_max", sa.BigInteger(), nullable=True),
        sa.Column("emergency_asked", sa.BigInteger(), nullable=False),
        sa.Column("emergency_owed", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "plan_kind IS NULL OR plan_kind IN ('fixed', 'percent')",
            name=op.f("ck_customer_policies_plan_kind"),
        ),
        sa.CheckConstraint(
            "plan_kind IS NULL OR (plan_kind = 'fixed' AND plan_amount > 0)"
            " OR (plan_kind = 'percent' AND plan_bp > 0 AND plan_bp <= 10000)",
            name=op.f("ck_customer_policies_plan_rule"),
        ),
        sa.CheckConstraint(
            "plan_min IS NULL OR plan_max IS NULL OR plan_min <= plan_max",
            name=op.f("ck_customer_policies_plan_bounds"),
        ),
        sa.CheckConstraint(
            "emergency_asked >= 0", name=op.f("ck_customer_policies_emergency_asked_not_negative")
        ),
        sa.CheckConstraint(
            "emergency_owed >= 0", name=op.f("ck_customer_policies_emergency_owed_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_policies_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["customer_classes.id"],
            name=op.f("fk_customer_policies_class_id_customer_classes"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_policies")),
    )
    op.create_table(
        "free_gas_grants",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sale_id", _ID, nullable=False),
        sa.Column("litres", sa.BigInteger(), nullable=True),
        sa.Column("money", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_free_gas_grants_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_free_gas_grants_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_free_gas_grants")),
        sa.UniqueConstraint(
            "customer_id", "month", name=op.f("uq_free_gas_grants_customer_id_month")
        ),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("free_gas_grants")
    op.drop_table("customer_policies")
    op.drop_table("customer_classes")
