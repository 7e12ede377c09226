"""A sale's statements read one customer's rows by key, however many customers there are.

A utility has millions of customers, each with a wallet, a wallet account, a
credit policy and the links to the meters it had. The sale pool plans each
statement once per connection (a generic plan), with no values to go by, so a
statement that joins on anything but a key would read a whole table per sale.
Checked here with tens of thousands of customers, as the planner sees them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from stsgas.vending.ledger import service as ledger
from stsgas.vending.sales import ops, pg, store_pg
from stsgas.vending.sales.compose import month_start
from tests.vending.sales.conftest import Shop
from tests.vending.sales.plans import generic_plan

pytestmark = pytest.mark.postgres

CUSTOMERS = 20_000
#: tables that grow with the customers: none may be read whole
PER_CUSTOMER = {"customers", "wallets", "accounts", "customer_policies", "customer_meters"}


def _many_customers(engine: Engine) -> None:
    """Customers (each given its wallet and wallet account by the database), a policy
    each, and an old, unlinked link to one of the shop's meters each."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (name, address, phone, debt_balance, created_at) "
                "SELECT 'customer ' || g, 'street ' || g, '+25470' || lpad(g::text, 7, '0'), "
                f"0, now() FROM generate_series(1, {CUSTOMERS}) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer_policies (customer_id, emergency_asked, emergency_owed, "
                "updated_at) SELECT id, 0, 0, now() FROM customers"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer_meters (customer_id, meter_id, linked_at, unlinked_at, "
                "active) SELECT c.id, (SELECT min(id) FROM meters), now(), now(), NULL "
                "FROM customers c"
            )
        )
        conn.execute(text("ANALYZE"))


def _scanned(plan: str) -> set[str]:
    return set(re.findall(r"Seq Scan on (\w+)", plan)) & PER_CUSTOMER


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_sales_statements_read_one_customer_by_key(engine: Engine, shop: Shop) -> None:
    """The lock, the policy read, the wallet draw and credit: no per-customer table is
    read whole."""
    _many_customers(engine)
    now = datetime.now(UTC)
    customer = {"customer_id": CUSTOMERS // 2}
    credit = ops.CreditWallet(
        customer_id=CUSTOMERS // 2,
        amount=100,
        source=ledger.MOBILE_CLEARING,
        memo="change",
        now=now,
    )
    lock = store_pg.lock_params(
        shop.amount_pan,
        channel="pos",
        key="key-1",
        now=now,
        month_start=month_start(now),
        operator_id=shop.cashier_id,
    )
    statements = {
        "lock": (store_pg.LOCK, lock),
        "lock by token": (pg.AUTH_LOCK, {**lock, "token_hash": "0" * 64}),
        "customer lock": (pg.LOCK_CUSTOMER, customer),
        "policy": (pg.READ_POLICY, {**customer, "month": "2026-12"}),
        "wallet draw": (pg.DRAW_WALLET, {**customer, "amount": 100, "now": now}),
        "wallet credit": (pg.CREDIT_WALLET, pg.credit_params(credit)),
    }
    for name, (sql, params) in statements.items():
        plan = generic_plan(engine, sql, params)
        assert not _scanned(plan), f"{name}:\n{plan}"
