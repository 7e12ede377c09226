"""Real concurrency on both backends: many sessions selling to one meter at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import Operator, Sale, Token, Vendor
from stsgas.vending.sales import service, transaction
from tests.vending.sales.conftest import FLOAT, Shop, make_shop

THREADS = 8
SALES = 24


@pytest.fixture
def shop(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> Shop:
    """The committed test shop."""
    return make_shop(engine, security_module, make_operator)


def _seller(engine: Engine, shop: Shop, security: SoftwareSecurityModule) -> Callable[..., Any]:
    sm = make_sessionmaker(engine)

    def sell(key: str | None) -> dict[str, Any]:
        with sm() as s:
            op = s.get(Operator, shop.cashier_id)
            assert op is not None
            req = service.SaleRequest(meter_number=shop.volume_pan, paid=500, channel="pos",
                                      idempotency_key=key)
            result = transaction.run(
                s, lambda: service.sell(s, req, operator=op, security=security),
                idempotent=key is not None,
            )
            return result.receipt

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
        assert all(a < b for a, b in itertools.pairwise(tids))
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == SALES * 500
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT - SALES * 500  # type: ignore[union-attr]


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
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT - 500  # type: ignore[union-attr]
