"""The console shows a cashier no customer page; its sell page confirms with the masked name."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Customer
from tests.vending.sales.conftest import Shop


def test_a_cashier_gets_no_customer_page(
    console: TestClient, signed_in: Callable[[str], str], shop: Shop, engine: Engine
) -> None:
    """The customers list and a customer's page are 403 for a cashier, and show no name."""
    with make_sessionmaker(engine)() as s:
        customer = s.execute(select(Customer)).scalars().first()
        assert customer is not None
        cid, name = customer.id, customer.name
    signed_in("shopcashier")
    for path in ("/console/customers", f"/console/customers/{cid}"):
        r = console.get(path)
        assert r.status_code == 403
        assert name not in r.text
