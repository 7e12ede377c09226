"""USSD sales get their own channel; refunds owed to mobile-money payers get a table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:00:00

* ``sales.channel`` may be ``ussd`` (the USSD menu's purchases were recorded as
  ``sms`` until now; those rows stay as they are), and the channel's clearing
  account ``clearing:ussd`` is made, as 0010 made the others.
* ``payer_refunds``: a cancelled mobile-money sale whose meter had no customer
  wallet owes its price to the payer's phone. Cancels made before this revision
  are found in the audit log (``sale.cancel`` with ``refunded_to: payer``).

Downgrade records USSD sales as ``sms`` again (as they were before), drops the
clearing account when no journal line uses it, and drops ``payer_refunds``.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD = "channel IN ('web', 'pos', 'sms', 'api')"
_NEW = "channel IN ('web', 'pos', 'sms', 'api', 'ussd')"
_CLEARING = "clearing:ussd"
_BACKFILL = """
INSERT INTO payer_refunds (sale_id, payment_id, amount, phone, owed_at, reference)
SELECT s.id, p.id, s.amount_paid, COALESCE(p.phone, ''), a.at, ''
FROM audit_log a
JOIN sales s ON CAST(s.id AS VARCHAR(64)) = a.object_id
LEFT JOIN payments p ON p.sale_id = s.id
WHERE a.id = :audit_id AND s.amount_paid > 0
AND NOT EXISTS (SELECT 1 FROM payer_refunds r WHERE r.sale_id = s.id)
"""


def _data(value: Any) -> dict[str, Any]:
    """An audit entry's ``data`` (JSON text on SQLite, decoded on PostgreSQL)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sales_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sales_channel"), sa.text(_NEW))
    conn = op.get_bind()
    have = conn.execute(sa.text("SELECT 1 FROM accounts WHERE code = :c"), {"c": _CLEARING})
    if have.first() is None:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (code, name, kind, created_at) "
                "VALUES (:code, 'Clearing', 'asset', CURRENT_TIMESTAMP)"
            ),
            {"code": _CLEARING},
        )
    op.create_table(
        "payer_refunds",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sale_id", _ID, nullable=False),
        sa.Column("payment_id", _ID, nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("owed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_by_id", _ID, nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payer_refunds_amount_positive")),
        sa.CheckConstraint(
            "(refunded_at IS NULL) = (refunded_by_id IS NULL)",
            name=op.f("ck_payer_refunds_refunded_by_someone"),
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_payer_refunds_sale_id_sales")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payer_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by_id"],
            ["operators.id"],
            name=op.f("fk_payer_refunds_refunded_by_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_refunds")),
        sa.UniqueConstraint("sale_id", name=op.f("uq_payer_refunds_sale_id")),
    )
    cancels = conn.execute(
        sa.text("SELECT id, data FROM audit_log WHERE action = 'sale.cancel' ORDER BY id")
    ).all()
    for audit_id, data in cancels:
        if _data(data).get("refunded_to") == "payer":
            conn.execute(sa.text(_BACKFILL), {"audit_id": audit_id})


def downgrade() -> None:
    """Undo this revision (USSD sales become ``sms`` sales again)."""
    op.drop_table("payer_refunds")
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE sales SET channel = 'sms' WHERE channel = 'ussd'"))
    conn.execute(
        sa.text(
            "DELETE FROM accounts WHERE code = :code AND NOT EXISTS "
            "(SELECT 1 FROM ledger_entries e WHERE e.account_id = accounts.id)"
        ),
        {"code": _CLEARING},
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sales_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sales_channel"), sa.text(_OLD))
