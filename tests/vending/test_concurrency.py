"""Real concurrency on both backends: many sessions selling to one meter at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import (
    Customer,
    CustomerMeter,
    Meter,
    MeterMode,
    Operator,
    Role,
    Sale,
    Token,
    Vendor,
)
from stsgas.vending.sales import chain, service
from tests.vending import factories
from tests.vending.sales.conftest import FLOAT, Shop

THREADS = 8
SALES = 24


def _seller(engine: Engine, shop: Shop, security: SoftwareSecurityModule) -> Callable[..., Any]:
    sm = make_sessionmaker(engine)

    def sell(key: str | None) -> dict[str, Any]:
        with sm() as s:
            op = s.get(Operator, shop.cashier_id)
            assert op is not None
            req = service.SaleRequest(
                meter_number=shop.volume_pan, paid=500, channel="pos", idempotency_key=key
            )
            result = transaction.run(
                s,
                lambda: service.sell(s, req, operator=op, security=security),
                idempotent=key is not None,
            )
            return result.body

    return sell


def test_concurrent_sales_to_one_meter_get_increasing_tids(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """N threads selling to one meter: every sale commits, TIDs strictly increase in sale order."""
    sell = _seller(engine, shop, security_module)
    with ThreadPoolExecutor(THREADS) as pool:
        receipts = list(pool.map(sell, [None] * SALES))
    assert len({r["tid"] for r in receipts}) == SALES
    with make_sessionmaker(engine)() as s:
        rows = s.execute(
            select(Sale.id, Token.tid).join(Token, Token.sale_id == Sale.id).order_by(Sale.id)
        ).all()
        tids = [t for _, t in rows]
        assert len(tids) == SALES
        assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(tids))
        charged = sum(int(Decimal(r["amount_paid"]) * 100) for r in receipts)
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == charged
        assert chain.broken_meters(s) == []  # concurrent sales still form one chain
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT - charged  # type: ignore[union-attr]


def test_one_key_retried_concurrently_charges_once(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """One idempotency key sent by N threads at once: one sale, one token, one charge."""
    sell = _seller(engine, shop, security_module)
    with ThreadPoolExecutor(THREADS) as pool:
        receipts = list(pool.map(sell, ["same-key"] * THREADS * 2))
    assert len({r["sale_id"] for r in receipts}) == 1
    assert len({r["token"] for r in receipts}) == 1
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Token)).scalar_one() == 1
        charged = int(Decimal(receipts[0]["amount_paid"]) * 100)
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT - charged  # type: ignore[union-attr]


def test_debt_recovered_concurrently_on_many_meters_is_never_over_recovered(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """One customer in debt, four meters, sales on all at once: the debt recovered adds
    up exactly, never past the debt, and every sale's receipt says what it took."""
    debt = 700  # less than the 8 sales x 10% of 10.00 would recover
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security_module)
        tariff = factories.tariff(s, mode=MeterMode.AMOUNT, debt_recovery_bp=1000)
        cust = factories.customer(s, debt_balance=debt)
        pans = [
            factories.meter(s, sg, customer=None, tariff=tariff, mode=MeterMode.AMOUNT).pan
            for _ in range(4)
        ]
        # link all four meters to the one customer
        for pan in pans:
            m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
            s.add(CustomerMeter(customer_id=cust.id, meter_id=m.id))
        cust_id = cust.id
        kiosk = Vendor(name="Debt Kiosk", float_balance=FLOAT)
        s.add(kiosk)
        s.flush()
        kiosk_id = kiosk.id
    op, _token = make_operator(Role.SUPERVISOR, username="debtseller", vendor_id=kiosk_id)
    sm = make_sessionmaker(engine)

    def sell(i: int) -> dict[str, Any]:
        with sm() as s:
            req = service.SaleRequest(
                meter_number=pans[i % 4], paid=1000, channel="api", idempotency_key=None
            )
            return transaction.run(
                s, lambda: service.sell(s, req, operator=op, security=security_module)
            ).body

    with ThreadPoolExecutor(THREADS) as pool:
        receipts = list(pool.map(sell, range(16)))
    recovered = sum(int(Decimal(r["debt_recovered"]) * 100) for r in receipts)
    assert recovered == debt
    with sm() as s:
        assert s.get(Customer, cust_id).debt_balance == 0  # type: ignore[union-attr]
        assert s.execute(select(func.sum(Sale.debt_recovered))).scalar_one() == debt
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 16 * 1000
