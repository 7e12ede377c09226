"""Rate limits on the sales API (V4): per vendor per minute, per customer per hour.

The counters live on the vendor and customer rows, so a refused sale writes
nothing and the limit holds across server processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Vendor
from stsgas.vending.settings import Settings
from tests.problems import problem
from tests.vending.conftest import client_with
from tests.vending.sales.conftest import Shop, counts
from tests.vending.sales.test_service import sell


@pytest.fixture
def strict(
    settings: Settings, engine: Engine, security_module: SoftwareSecurityModule
) -> Iterator[TestClient]:
    """The API with 3 sales per vendor-minute and 2 per customer-hour."""
    with client_with(
        settings, engine, security_module, vendor_sales_per_minute=3, customer_sales_per_hour=2
    ) as c:
        yield c


def _problem(r: Any, code: str) -> dict[str, Any]:
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    return problem(r, 429, code)


def test_customer_limit_refuses_the_next_sale_and_writes_nothing(
    strict: TestClient, shop: Shop, engine: Engine
) -> None:
    """The volume meter's customer may buy twice an hour; the third is 429, nothing written."""
    for i in range(2):
        r = sell(strict, shop.cashier_token, shop.volume_pan, "10", key=f"c{i}")
        assert r.status_code == 201
    before = counts(engine)
    body = _problem(
        sell(strict, shop.cashier_token, shop.volume_pan, "10", key="c2"), "rate_limited"
    )
    assert (body["scope"], body["limit"]) == ("customer", 2)
    assert counts(engine) == before
    # a meter with no customer is not held back by that customer's limit
    assert sell(strict, shop.cashier_token, shop.amount_pan, "10", key="a0").status_code == 201


def test_vendor_limit_counts_every_meter(strict: TestClient, shop: Shop, engine: Engine) -> None:
    """Three sales a minute per vendor, whichever meters they go to."""
    pans = [shop.amount_pan, shop.amount_pan, shop.volume_pan]
    for i, pan in enumerate(pans):
        assert sell(strict, shop.cashier_token, pan, "10", key=f"v{i}").status_code == 201
    before = counts(engine)
    body = _problem(
        sell(strict, shop.cashier_token, shop.amount_pan, "10", key="v3"), "rate_limited"
    )
    assert (body["scope"], body["limit"]) == ("vendor", 3)
    assert counts(engine) == before


def test_replay_is_not_counted(strict: TestClient, shop: Shop) -> None:
    """Retrying one idempotency key replays the sale; it does not use up the limit."""
    for _ in range(5):
        r = sell(strict, shop.cashier_token, shop.amount_pan, "10", key="same")
        assert r.status_code == 201
    assert sell(strict, shop.cashier_token, shop.amount_pan, "10", key="next").status_code == 201


def test_a_vendor_override_beats_the_default(
    strict: TestClient, shop: Shop, engine: Engine
) -> None:
    """A vendor's own ``sales_per_minute`` replaces the service default."""
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Vendor).where(Vendor.id == shop.vendor_id).values(sales_per_minute=1))
    assert sell(strict, shop.cashier_token, shop.amount_pan, "10", key="o0").status_code == 201
    body = _problem(
        sell(strict, shop.cashier_token, shop.amount_pan, "10", key="o1"), "rate_limited"
    )
    assert body["limit"] == 1
