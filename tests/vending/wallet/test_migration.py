"""Migration 0012 gives every customer made before it a wallet and its ledger account."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, select, text

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.migrations import alembic_config
from stsgas.vending.models import Account, Sale
from stsgas.vending.wallet import service as wallet


def test_customers_made_before_0012_get_an_empty_wallet(engine: Engine, db_url: str) -> None:
    cfg = alembic_config(db_url, engine=engine)
    command.downgrade(cfg, "0010")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (name, address, phone, debt_balance, created_at, "
                "rate_window, rate_count) VALUES ('Old', '', '', 0, CURRENT_TIMESTAMP, 0, 0)"
            )
        )
        old_id = conn.execute(text("SELECT id FROM customers")).scalar_one()
    command.upgrade(cfg, "head")
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, old_id) == 0
        kind = s.execute(
            select(Account.kind).where(Account.code == ledger.wallet_account(old_id))
        ).scalar_one()
        assert kind == "liability"
        assert s.execute(select(Sale.paid_from).limit(1)).first() is None
        assert s.execute(
            select(Account.id).where(Account.code == ledger.MOBILE_CLEARING)
        ).scalar_one()
