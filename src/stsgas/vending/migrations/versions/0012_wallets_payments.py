"""Customer wallets, payments from providers, and which account paid each sale.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:00:00

* ``wallets``: one row per customer with the balance a purchase draws under a
  guarded update; its ledger account is ``customer:<id>:wallet`` (a liability).
  Both are made for every existing customer here and, by a trigger on
  ``customers``, for each new one in the statement that inserts it (as vendor
  floats are since 0010).
* ``payments``: what a provider (mobile money, the counter) reported, unique by
  the provider's transaction id, with what it became (a sale or a top-up).
* ``sales.paid_from``: ``float`` (every sale so far), ``wallet`` or ``mobile``.
* the clearing account of mobile money.

The codes are written out here: a migration must not change when the ledger
module does. Downgrade drops the trigger, the tables and the column; the
accounts stay (journals point at them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# ':' || 'wallet', not ':wallet': SQLAlchemy's text() would read ":wallet" as a parameter
_PG_FUNCTION = """
CREATE FUNCTION stsgas_customer_wallet() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO accounts (code, name, kind, created_at)
    VALUES ('customer:' || NEW.id || ':' || 'wallet', 'Customer wallet', 'liability',
            NEW.created_at)
    ON CONFLICT (code) DO NOTHING;
    INSERT INTO wallets (customer_id, balance, updated_at) VALUES (NEW.id, 0, NEW.created_at)
    ON CONFLICT (customer_id) DO NOTHING;
    RETURN NEW;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER customer_wallet AFTER INSERT ON customers
FOR EACH ROW EXECUTE FUNCTION stsgas_customer_wallet()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER customer_wallet AFTER INSERT ON customers
BEGIN
    INSERT OR IGNORE INTO accounts (code, name, kind, created_at)
    VALUES ('customer:' || NEW.id || ':' || 'wallet', 'Customer wallet', 'liability',
            NEW.created_at);
    INSERT OR IGNORE INTO wallets (customer_id, balance, updated_at)
    VALUES (NEW.id, 0, NEW.created_at);
END
"""
_BACKFILL_ACCOUNTS = """
INSERT INTO accounts (code, name, kind, created_at)
SELECT 'customer:' || c.id || ':' || 'wallet', 'Customer wallet', 'liability', c.created_at
FROM customers c
WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.code = 'customer:' || c.id || ':' || 'wallet')
"""
_BACKFILL_WALLETS = """
INSERT INTO wallets (customer_id, balance, updated_at)
SELECT c.id, 0, c.created_at FROM customers c
WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.customer_id = c.id)
"""


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "wallets",
        sa.Column("customer_id", _ID, autoincrement=False, nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_wallets_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallets_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_wallets")),
    )
    op.create_table(
        "payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("sale_id", _ID, nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('received', 'sold', 'topped_up', 'rejected')",
            name=op.f("ck_payments_state"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_payments_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider", "txn_id", name=op.f("uq_payments_provider_txn_id")),
    )
    op.create_index(op.f("ix_payments_sale_id"), "payments", ["sale_id"], unique=False)
    op.create_index(op.f("ix_payments_received_at"), "payments", ["received_at"], unique=False)
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paid_from", sa.String(length=8), nullable=False, server_default="float")
        )
        batch_op.create_check_constraint("paid_from", "paid_from IN ('float', 'wallet', 'mobile')")
    conn = op.get_bind()
    have = set(conn.execute(sa.text("SELECT code FROM accounts")).scalars())
    if "clearing:mobile" not in have:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (code, name, kind, created_at) "
                "VALUES ('clearing:mobile', 'Clearing', 'asset', CURRENT_TIMESTAMP)"
            )
        )
    conn.execute(sa.text(_BACKFILL_ACCOUNTS))
    conn.execute(sa.text(_BACKFILL_WALLETS))
    if conn.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    """Undo this revision (the accounts stay: journals point at them)."""
    pg = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS customer_wallet" + (" ON customers" if pg else ""))
    if pg:
        op.execute("DROP FUNCTION IF EXISTS stsgas_customer_wallet()")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sales_paid_from"), type_="check")
        batch_op.drop_column("paid_from")
    op.drop_index(op.f("ix_payments_received_at"), table_name="payments")
    op.drop_index(op.f("ix_payments_sale_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_table("wallets")
