"""USSD sales are USSD's own (issue 14, migration 0017): recorded on channel ``ussd``
and reported apart from SMS; a session sold as ``sms`` before the upgrade is never
sold twice; downgrading records them as ``sms`` again. Both databases."""

from __future__ import annotations

import warnings

from alembic import command
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.migrations import alembic_config
from stsgas.vending.models import Account, LedgerEntry, Sale
from tests.vending.conftest import auth
from tests.vending.ussd.conftest import dial

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _sales(engine: Engine) -> list[Sale]:
    with make_sessionmaker(engine)() as s:
        return list(s.execute(select(Sale).order_by(Sale.id)).scalars())


def test_a_ussd_purchase_is_a_ussd_sale_paid_from_the_wallet(
    ussd_client: TestClient, engine: Engine, admin_token: str
) -> None:
    """The sale is on ``ussd``, its journal draws the customer's wallet, and the daily
    report counts it under ``ussd``."""
    assert dial(ussd_client, "c-1", "2*20*1").text.startswith("END Meter")
    [sale] = _sales(engine)
    assert sale.channel == "ussd"
    assert sale.paid_from == "wallet"
    with make_sessionmaker(engine)() as s:
        debited = s.execute(
            select(Account.code)
            .join(LedgerEntry, LedgerEntry.account_id == Account.id)
            .where(LedgerEntry.sale_id == sale.id, LedgerEntry.debit > 0)
        ).scalar_one()
    assert debited == ledger.wallet_account(sale.customer_id or 0)
    day = sale.created_at.date().isoformat()
    rows = ussd_client.get(
        "/api/v1/reports/daily", params={"day": day}, headers=auth(admin_token)
    ).json()
    assert [(r["channel"], r["sales"]) for r in rows] == [("ussd", 1)]


def test_a_session_sold_as_sms_before_the_upgrade_is_not_sold_again(
    ussd_client: TestClient, engine: Engine
) -> None:
    """A confirm repeated by the gateway across the upgrade: its sale was recorded on
    ``sms`` under the session's key; the answer is that sale, and nothing more is sold."""
    done = dial(ussd_client, "old-1", "2*20*1").text
    with make_sessionmaker(engine).begin() as s:  # as 0016's code recorded it
        s.execute(update(Sale).values(channel="sms"))
    assert dial(ussd_client, "old-1", "2*20*1").text == done
    assert [(s.channel, s.idempotency_key) for s in _sales(engine)] == [("sms", "ussd-old-1")]


def test_the_migration_keeps_old_rows_and_downgrades_ussd_to_sms(
    ussd_client: TestClient, engine: Engine, db_url: str
) -> None:
    """0017 leaves existing ``sms`` rows alone; its downgrade records USSD sales as
    ``sms`` (as before it), where ``ussd`` is refused again; upgraded, ``ussd`` is allowed."""
    dial(ussd_client, "mig-1", "2*20*1")
    dial(ussd_client, "mig-2", "2*20*1")
    first, second = _sales(engine)
    with make_sessionmaker(engine).begin() as s:  # the first as 0016's code recorded it
        s.execute(update(Sale).where(Sale.id == first.id).values(channel="sms"))
    cfg = alembic_config(db_url, engine=engine)
    command.downgrade(cfg, "0016")
    try:
        assert [s.channel for s in _sales(engine)] == ["sms", "sms"]
        with engine.connect() as conn:
            try:
                conn.execute(text(f"UPDATE sales SET channel = 'ussd' WHERE id = {second.id}"))
                raise AssertionError("0016 accepted channel 'ussd'")
            except IntegrityError:
                conn.rollback()
    finally:
        command.upgrade(cfg, "head")
    assert [s.channel for s in _sales(engine)] == ["sms", "sms"]
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE sales SET channel = 'ussd' WHERE id = {second.id}"))
    with make_sessionmaker(engine)() as s:
        code = s.execute(
            select(Account.code).where(Account.code == ledger.clearing_account("ussd"))
        ).scalar_one()
    assert code == "clearing:ussd"
