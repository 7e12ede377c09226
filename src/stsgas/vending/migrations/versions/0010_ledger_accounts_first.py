"""Ledger accounts exist before the first sale: made with the vendor, or here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:10:00

Until now a sale made the accounts it posts to on first use, so a vendor's
(or a channel's) first sale ran a different, slower path. Now the accounts
every sale may post to are rows before any sale needs them:

* the fixed ones (gas and fixed-charge revenue, tax, customer debt) and one
  clearing account per channel are inserted here;
* every existing vendor gets its float account here, and a trigger on
  ``vendors`` makes the float account of each new vendor in the same
  statement that inserts the vendor, whoever inserts it.

The codes and kinds are those of ``stsgas.vending.ledger.service``; they are
written out here because a migration must not change when that module does.
Downgrade drops the trigger and keeps the accounts (journals point at them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FIXED = (
    ("revenue:gas", "Gas sales", "revenue"),
    ("revenue:fixed", "Fixed charges", "revenue"),
    ("liability:tax", "Tax collected", "liability"),
    ("asset:customer_debt", "Customer debt", "asset"),
    ("clearing:web", "Clearing", "asset"),
    ("clearing:pos", "Clearing", "asset"),
    ("clearing:sms", "Clearing", "asset"),
    ("clearing:api", "Clearing", "asset"),
)

# ':' || 'float', not ':float': SQLAlchemy's text() would read ":float" as a parameter
_PG_FUNCTION = """
CREATE FUNCTION stsgas_vendor_float_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO accounts (code, name, kind, vendor_id, created_at)
    VALUES ('vendor:' || NEW.id || ':' || 'float', 'Vendor float', 'liability', NEW.id,
            NEW.created_at)
    ON CONFLICT (code) DO NOTHING;
    RETURN NEW;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER vendor_float_account AFTER INSERT ON vendors
FOR EACH ROW EXECUTE FUNCTION stsgas_vendor_float_account()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER vendor_float_account AFTER INSERT ON vendors
BEGIN
    INSERT OR IGNORE INTO accounts (code, name, kind, vendor_id, created_at)
    VALUES ('vendor:' || NEW.id || ':' || 'float', 'Vendor float', 'liability', NEW.id,
            NEW.created_at);
END
"""
_BACKFILL_VENDORS = """
INSERT INTO accounts (code, name, kind, vendor_id, created_at)
SELECT 'vendor:' || v.id || ':' || 'float', 'Vendor float', 'liability', v.id, v.created_at
FROM vendors v
WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.code = 'vendor:' || v.id || ':' || 'float')
"""


def upgrade() -> None:
    """Apply this revision."""
    conn = op.get_bind()
    have = set(conn.execute(sa.text("SELECT code FROM accounts")).scalars())
    for code, name, kind in _FIXED:
        if code not in have:
            conn.execute(
                sa.text(
                    "INSERT INTO accounts (code, name, kind, created_at) "
                    "VALUES (:code, :name, :kind, CURRENT_TIMESTAMP)"
                ),
                {"code": code, "name": name, "kind": kind},
            )
    conn.execute(sa.text(_BACKFILL_VENDORS))
    if conn.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    """Undo this revision (the accounts stay: journals point at them)."""
    op.execute("DROP TRIGGER IF EXISTS vendor_float_account" + _on_vendors())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS stsgas_vendor_float_account()")


def _on_vendors() -> str:
    return " ON vendors" if op.get_bind().dialect.name == "postgresql" else ""
