"""A sale's journal finds each line's ledger account by its code, one index probe a
line, however many accounts there are.

Every customer has a wallet account, so the accounts grow with the customers (two
million meters: about two million accounts). The journal's insert joined its lines
to every account; the planner, expecting 100 lines from the JSON, read the whole
table each time (a sequential scan per sale, per payment's change, per credit
policy's journal). The lines now look their account up by its unique code.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import LedgerEntry, Sale
from stsgas.vending.sales import ops, pg, store_pg
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.plans import generic_plan

pytestmark = pytest.mark.postgres

#: wallet accounts of customers that are not in this test: enough for the planner to see
ACCOUNTS = 50_000


def _many_accounts(engine: Engine) -> None:
    kind, _name, _vendor = ledger.account_spec(ledger.wallet_account(1))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (code, name, kind, vendor_id, created_at) "
                "SELECT 'customer:' || (1000000 + g) || ':' || 'wallet', 'wallet', :kind, NULL, "
                "now() "
                f"FROM generate_series(1, {ACCOUNTS}) g"
            ),
            {"kind": kind.value},
        )
        conn.execute(text("ANALYZE accounts"))


def _probes_only(plan: str) -> None:
    assert "Seq Scan on accounts" not in plan, plan
    assert "Index Only Scan using uq_accounts_code" in plan or (
        "Index Scan using uq_accounts_code" in plan
    ), plan


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_journal_probes_the_account_index(engine: Engine) -> None:
    """The journal of a sale (and of a credit policy) reads no account but its lines'."""
    _many_accounts(engine)
    lines = [
        ledger.Line(account=ledger.vendor_float_account(1), debit=500),
        ledger.Line(account=ledger.REVENUE_GAS, credit=500),
    ]
    params = {**store_pg.journal_params(lines, "memo"), "created_at": datetime.now(UTC)}
    sql = "WITH " + store_pg.JOURNAL.format(sale_id="NULL::bigint") + "SELECT count(*) FROM led"
    _probes_only(generic_plan(engine, sql, params))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_wallet_credit_probes_the_account_index(engine: Engine) -> None:
    """A payment's change or a refund into a wallet reads no account but its two."""
    _many_accounts(engine)
    op = ops.CreditWallet(
        customer_id=1,
        amount=250,
        source=ledger.MOBILE_CLEARING,
        memo="change",
        now=datetime.now(UTC),
    )
    _probes_only(generic_plan(engine, pg.CREDIT_WALLET, pg.credit_params(op)))


def _sale_and_its_lines(
    engine: Engine, shop: Shop, client: object
) -> tuple[Sale, list[tuple[int, int, str]]]:
    """Sell 10.00 to the amount meter through the API; the sale and its journal's lines
    (debit, credit, account code)."""
    r = client.post(  # type: ignore[attr-defined]
        "/api/v1/sales",
        json={"meter_number": shop.amount_pan, "amount": "10.00", "channel": "pos"},
        headers=auth(shop.cashier_token),
    )
    assert r.status_code == 201, r.text
    sale_id = r.json()["sale_id"]
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, sale_id)
        assert sale is not None
        rows = s.execute(
            text(
                "SELECT e.debit, e.credit, a.code FROM ledger_entries e "
                "JOIN accounts a ON a.id = e.account_id WHERE e.sale_id = :sale"
            ),
            {"sale": sale_id},
        ).all()
        posted = s.scalar(select(func.count()).where(LedgerEntry.sale_id == sale_id))
    assert posted == len(rows) >= 2
    return sale, [(d, c, code) for d, c, code in rows]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_sale_among_many_accounts_posts_its_own_lines(
    engine: Engine, shop: Shop, client: object
) -> None:
    """The answer is the same: the sale's journal posts each line to its own account."""
    _many_accounts(engine)
    sale, rows = _sale_and_its_lines(engine, shop, client)
    codes = {code for _d, _c, code in rows}
    assert ledger.vendor_float_account(shop.vendor_id) in codes
    assert not any(code.startswith("customer:1") for code in codes)
    assert sum(d for d, _c, _code in rows) == sum(c for _d, c, _code in rows) == sale.amount_paid


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_sale_whose_account_is_missing_makes_it_and_posts_every_line(
    engine: Engine, shop: Shop, client: object
) -> None:
    """The journal's one lookup a line still finds no account for a code nobody made
    (a float account deleted by hand, say): the statement makes it and posts to it."""
    code = ledger.vendor_float_account(shop.vendor_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts WHERE code = :code"), {"code": code})
    sale, rows = _sale_and_its_lines(engine, shop, client)
    with engine.connect() as conn:
        made = conn.scalar(text("SELECT count(*) FROM accounts WHERE code = :code"), {"code": code})
    assert made == 1
    assert (sale.amount_paid, 0, code) in rows
    assert sum(d for d, _c, _code in rows) == sum(c for _d, c, _code in rows) == sale.amount_paid
