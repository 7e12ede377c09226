"""Ledger accounts exist before the first sale: made with the vendor, backfilled by 0010.

A sale must never have to make the account it posts to (that was a slower,
second path for every vendor's and channel's first sale).
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, select, text

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.migrations import alembic_config
from stsgas.vending.models import Account, Channel, Vendor
from stsgas.vending.operators import service as operators

_FIXED = {ledger.REVENUE_GAS, ledger.REVENUE_FIXED, ledger.TAX, ledger.CUSTOMER_DEBT}


def _accounts(engine: Engine) -> dict[str, tuple[str, int | None]]:
    with make_sessionmaker(engine)() as s:
        rows = s.execute(select(Account.code, Account.kind, Account.vendor_id)).all()
    return {code: (kind, vendor_id) for code, kind, vendor_id in rows}


def test_a_new_vendor_has_its_float_account(engine: Engine) -> None:
    with make_sessionmaker(engine).begin() as s:
        by_service = operators.create_vendor(s, actor=None, name="Corner Shop").id
        plain = Vendor(name="Market Stall", float_balance=0)
        s.add(plain)
        s.flush()
        by_orm = plain.id
    accounts = _accounts(engine)
    for vendor_id in (by_service, by_orm):
        assert accounts[ledger.vendor_float_account(vendor_id)] == ("liability", vendor_id)


def test_a_migrated_database_holds_every_account_a_sale_posts_to(
    engine: Engine, db_url: str
) -> None:
    """0010 makes the fixed and clearing accounts and backfills the float account of
    every vendor made before it (here: a vendor inserted at 0009)."""
    cfg = alembic_config(db_url, engine=engine)
    command.downgrade(cfg, "0009")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts"))
        conn.execute(
            text(
                "INSERT INTO vendors (name, float_balance, is_active, created_at, rate_count, "
                "rate_window) VALUES ('Old Kiosk', 0, true, CURRENT_TIMESTAMP, 0, 0)"
            )
        )
        old_id = conn.execute(text("SELECT id FROM vendors")).scalar_one()
    assert _accounts(engine) == {}
    command.upgrade(cfg, "head")
    accounts = _accounts(engine)
    want = _FIXED | {ledger.clearing_account(c.value) for c in Channel}
    want.add(ledger.vendor_float_account(old_id))
    want.add(ledger.MOBILE_CLEARING)  # 0012: mobile money's clearing account
    assert set(accounts) == want
    assert {code: ledger.account_spec(code)[0].value for code in want} == {
        code: kind for code, (kind, _) in accounts.items()
    }
