"""Initial schema: every vending table (generated from the models, then reviewed).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 01:21:54.971462
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "customers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("debt_balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("debt_balance >= 0", name=op.f("ck_customers_debt_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)

    op.create_table(
        "supply_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sgc", sa.String(length=6), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("ea", sa.Integer(), nullable=False),
        sa.Column("dkga", sa.Integer(), nullable=False),
        sa.Column("vending_key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("key_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "base_date IN (1993, 2014, 2035)", name=op.f("ck_supply_groups_base_date")
        ),
        sa.CheckConstraint("dkga IN (2, 4)", name=op.f("ck_supply_groups_dkga")),
        sa.CheckConstraint("ea IN (7, 9, 11)", name=op.f("ck_supply_groups_ea")),
        sa.CheckConstraint("ken BETWEEN 0 AND 255", name=op.f("ck_supply_groups_ken_range")),
        sa.CheckConstraint(
            "key_type BETWEEN 0 AND 3", name=op.f("ck_supply_groups_key_type_range")
        ),
        sa.CheckConstraint("krn BETWEEN 1 AND 15", name=op.f("ck_supply_groups_krn_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_groups")),
        sa.UniqueConstraint("sgc", "krn", name=op.f("uq_supply_groups_sgc_krn")),
    )
    op.create_table(
        "tariffs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('volume', 'amount')", name=op.f("ck_tariffs_mode")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint("name", name=op.f("uq_tariffs_name")),
    )
    op.create_table(
        "vendors",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("float_balance", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("float_balance >= 0", name=op.f("ck_vendors_float_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendors")),
        sa.UniqueConstraint("name", name=op.f("uq_vendors_name")),
    )
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('asset', 'liability', 'revenue')", name=op.f("ck_accounts_kind")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_accounts_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    op.create_table(
        "meters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pan", sa.String(length=18), nullable=False),
        sa.Column("iin", sa.String(length=6), nullable=False),
        sa.Column("drn", sa.String(length=13), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column(
            "supply_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ti", sa.String(length=2), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_tid", sa.BigInteger(), nullable=False),
        sa.Column(
            "pending_supply_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("pending_ti", sa.String(length=2), nullable=True),
        sa.Column("pending_base_date", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('volume', 'amount')", name=op.f("ck_meters_mode")),
        sa.CheckConstraint(
            "status IN ('active', 'blocked', 'retired')", name=op.f("ck_meters_status")
        ),
        sa.CheckConstraint("base_date IN (1993, 2014, 2035)", name=op.f("ck_meters_base_date")),
        sa.CheckConstraint("last_tid >= 0", name=op.f("ck_meters_last_tid_not_negative")),
        sa.ForeignKeyConstraint(
            ["pending_supply_group_id"],
            ["supply_groups.id"],
            name=op.f("fk_meters_pending_supply_group_id_supply_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["supply_group_id"],
            ["supply_groups.id"],
            name=op.f("fk_meters_supply_group_id_supply_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["tariffs.id"], name=op.f("fk_meters_tariff_id_tariffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meters")),
        sa.UniqueConstraint("pan", name=op.f("uq_meters_pan")),
    )
    op.create_table(
        "operators",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'supervisor', 'cashier', 'auditor')", name=op.f("ck_operators_role")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_operators_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_api_tokens_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["operators.id"], name=op.f("fk_audit_log_actor_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_log_seq")),
    )
    op.create_table(
        "customer_meters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "active = 1 OR active IS NULL", name=op.f("ck_customer_meters_active_flag")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_meters_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_customer_meters_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_meters")),
        sa.UniqueConstraint("meter_id", "active", name=op.f("uq_customer_meters_meter_id_active")),
    )
    with op.batch_alter_table("customer_meters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_meters_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_meters_meter_id"), ["meter_id"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('in_progress', 'done')", name=op.f("ck_idempotency_records_state")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_idempotency_records_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
    )
    op.create_table(
        "tariff_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tariff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fixed_charge", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("debt_recovery_bp", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "debt_recovery_bp BETWEEN 0 AND 10000",
            name=op.f("ck_tariff_versions_debt_recovery_range"),
        ),
        sa.CheckConstraint(
            "fixed_charge >= 0", name=op.f("ck_tariff_versions_fixed_charge_not_negative")
        ),
        sa.CheckConstraint(
            "tax_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_tariff_versions_tax_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["operators.id"],
            name=op.f("fk_tariff_versions_created_by_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["tariffs.id"], name=op.f("fk_tariff_versions_tariff_id_tariffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_versions")),
        sa.UniqueConstraint(
            "tariff_id", "effective_from", name=op.f("uq_tariff_versions_tariff_id_effective_from")
        ),
        sa.UniqueConstraint(
            "tariff_id", "version", name=op.f("uq_tariff_versions_tariff_id_version")
        ),
    )
    with op.batch_alter_table("tariff_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tariff_versions_tariff_id"), ["tariff_id"], unique=False
        )

    op.create_table(
        "sales",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "tariff_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("fixed_charge", sa.BigInteger(), nullable=False),
        sa.Column("debt_recovered", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("energy_amount", sa.BigInteger(), nullable=False),
        sa.Column("credit_units", sa.BigInteger(), nullable=True),
        sa.Column("credit_money", sa.BigInteger(), nullable=True),
        sa.Column("tariff_steps", sa.JSON(), nullable=False),
        sa.Column("key_change", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("reprint_count", sa.Integer(), nullable=False),
        sa.Column(
            "cancelled_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('web', 'pos', 'sms', 'api')", name=op.f("ck_sales_channel")
        ),
        sa.CheckConstraint("status IN ('completed', 'cancelled')", name=op.f("ck_sales_status")),
        sa.CheckConstraint(
            "amount_paid = fixed_charge + debt_recovered + tax + energy_amount",
            name=op.f("ck_sales_amount_itemised"),
        ),
        sa.CheckConstraint("amount_paid > 0", name=op.f("ck_sales_amount_positive")),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"], ["operators.id"], name=op.f("fk_sales_cancelled_by_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sales_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["meter_id"], ["meters.id"], name=op.f("fk_sales_meter_id_meters")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_sales_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_version_id"],
            ["tariff_versions.id"],
            name=op.f("fk_sales_tariff_version_id_tariff_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_sales_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint(
            "channel", "idempotency_key", name=op.f("uq_sales_channel_idempotency_key")
        ),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_meter_id"), ["meter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "tariff_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tariff_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("up_to_litres", sa.BigInteger(), nullable=True),
        sa.Column("price_per_m3", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "position BETWEEN 1 AND 10", name=op.f("ck_tariff_steps_position_range")
        ),
        sa.CheckConstraint("price_per_m3 > 0", name=op.f("ck_tariff_steps_price_positive")),
        sa.ForeignKeyConstraint(
            ["tariff_version_id"],
            ["tariff_versions.id"],
            name=op.f("fk_tariff_steps_tariff_version_id_tariff_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_steps")),
        sa.UniqueConstraint(
            "tariff_version_id", "position", name=op.f("uq_tariff_steps_tariff_version_id_position")
        ),
    )
    with op.batch_alter_table("tariff_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tariff_steps_tariff_version_id"), ["tariff_version_id"], unique=False
        )

    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("journal", sa.String(length=36), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0) AND debit + credit > 0",
            name=op.f("ck_ledger_entries_one_side"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_ledger_entries_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entries_journal"), ["journal"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entries_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "management_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "requested_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "decided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('clear_credit', 'clear_tamper', 'set_tariff', 'key_change')",
            name=op.f("ck_management_requests_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'issued')",
            name=op.f("ck_management_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["operators.id"],
            name=op.f("fk_management_requests_decided_by_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_management_requests_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["operators.id"],
            name=op.f("fk_management_requests_requested_by_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_management_requests_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management_requests")),
    )
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_management_requests_meter_id"), ["meter_id"], unique=False
        )

    op.create_table(
        "tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "management_request_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("meter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("token_class", sa.Integer(), nullable=False),
        sa.Column("subclass", sa.Integer(), nullable=False),
        sa.Column("tid", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("digits", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind = 'kct' OR tid IS NOT NULL", name=op.f("ck_tokens_tid_unless_kct")
        ),
        sa.CheckConstraint("kind IN ('credit', 'kct', 'mgmt')", name=op.f("ck_tokens_kind")),
        sa.CheckConstraint(
            "sale_id IS NOT NULL OR management_request_id IS NOT NULL",
            name=op.f("ck_tokens_has_origin"),
        ),
        sa.ForeignKeyConstraint(
            ["management_request_id"],
            ["management_requests.id"],
            name=op.f("fk_tokens_management_request_id_management_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_tokens_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_tokens_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("meter_id", "tid", name=op.f("uq_tokens_meter_id_tid")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tokens_management_request_id"), ["management_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tokens_sale_id"), ["sale_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_sale_id"))
        batch_op.drop_index(batch_op.f("ix_tokens_management_request_id"))

    op.drop_table("tokens")
    with op.batch_alter_table("management_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_management_requests_meter_id"))

    op.drop_table("management_requests")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_sale_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_journal"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_account_id"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("tariff_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tariff_steps_tariff_version_id"))

    op.drop_table("tariff_steps")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_sales_operator_id"))
        batch_op.drop_index(batch_op.f("ix_sales_meter_id"))
        batch_op.drop_index(batch_op.f("ix_sales_created_at"))

    op.drop_table("sales")
    with op.batch_alter_table("tariff_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tariff_versions_tariff_id"))

    op.drop_table("tariff_versions")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("customer_meters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_meters_meter_id"))
        batch_op.drop_index(batch_op.f("ix_customer_meters_customer_id"))

    op.drop_table("customer_meters")
    op.drop_table("audit_log")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_operator_id"))

    op.drop_table("api_tokens")
    op.drop_table("operators")
    op.drop_table("meters")
    op.drop_table("accounts")
    op.drop_table("vendors")
    op.drop_table("tariffs")
    op.drop_table("supply_groups")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_phone"))

    op.drop_table("customers")
