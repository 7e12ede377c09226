"""Sales of one customer at once, on its two meters, over real HTTP on a real server:
the free gas is given once, each sale recovers its own instalment, the debt never
goes below zero, and the ledger balances."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import FreeGasGrant, Sale
from tests.vending.conftest import auth
from tests.vending.policies.conftest import (
    Town,
    debt,
    ledger_balanced,
    lines,
    new_class,
    set_policy,
)
from tests.vending.sales.live import serve

SALES = 8  # four on each meter, all released together


@pytest.fixture
def live(app: Any, town: Town) -> Iterator[str]:
    """The app on a real uvicorn server (its lifespan opens the event-loop sale pool)."""
    with serve(app) as base_url:
        yield base_url


def test_concurrent_sales_of_one_customer(live: str, town: Town, engine: Engine, app: Any) -> None:
    """Debt 10.00 recovered 3.00 a sale, free gas 6 m³ a month: eight sales at once on
    the customer's two meters give the free gas once and recover 3 + 3 + 3 + 1, each
    once, leaving no debt; every sale is made and the ledger balances."""
    with httpx.Client(base_url=live, timeout=60) as setup:
        setup.patch(
            f"/api/v1/customers/{town.customer_id}",
            json={"debt_balance": "10.00"},
            headers=auth(town.supervisor_token),
        )
        new_class(setup, town, {"code": "lifeline", "free_m3": "6"})
        plan = {"kind": "fixed", "amount": "3.00"}
        r = set_policy(setup, town, town.customer_id, {"class_code": "lifeline", "debt_plan": plan})
        assert r.status_code == 200, r.text
    barrier = threading.Barrier(SALES)

    def sale(i: int) -> httpx.Response:
        with httpx.Client(base_url=live, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(
                "/api/v1/sales",
                json={"meter_number": town.volume_pans[i % 2], "amount": "23.00"},
                headers=auth(town.cashier_token),
            )

    with ThreadPoolExecutor(SALES) as pool:
        answers = list(pool.map(sale, range(SALES)))
    assert [r.status_code for r in answers] == [201] * SALES, [r.text for r in answers]
    receipts = [lines(r.json()) for r in answers]
    instalments = sorted(
        (Decimal(ln["debt_instalment"][0]) for ln in receipts if "debt_instalment" in ln),
        reverse=True,
    )
    assert instalments == [Decimal("3.00")] * 3 + [Decimal("1.00")]
    assert sum("free_gas" in ln for ln in receipts) == 1
    assert debt(engine, town.customer_id) == 0
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(FreeGasGrant)).scalar_one() == 1
        recovered = s.execute(select(func.sum(Sale.debt_recovered))).scalar_one()
        assert recovered == 1000
    ledger_balanced(engine)
    with httpx.Client(base_url=live, timeout=60) as c:  # a customer with no policy
        plain = c.post(
            "/api/v1/sales",
            json={"meter_number": town.amount_pan, "amount": "10.00"},
            headers=auth(town.cashier_token),
        )
    assert plain.status_code == 201, plain.text
    assert "policy_lines" not in plain.json()
    if engine.dialect.name == "postgresql":  # the event-loop path sold every one itself
        stats = app.state.sale_pool.stats
        assert stats["fast"] == SALES + 1
        assert not [k for k in stats if k.startswith("deferred")]
