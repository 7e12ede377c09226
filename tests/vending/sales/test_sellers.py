"""Every sale draws a vendor's float and counts against its rate limit, whoever sells."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import Operator, Role, Vendor
from stsgas.vending.settings import Settings
from tests.vending.conftest import client_with
from tests.vending.sales.conftest import Shop, counts
from tests.vending.sales.test_service import refused, sell


def _vendor(engine: Engine, float_balance: int) -> int:
    with make_sessionmaker(engine).begin() as s:
        v = Vendor(name=f"Supervisors' till {float_balance}", float_balance=float_balance)
        s.add(v)
        s.flush()
        return v.id


@pytest.fixture
def strict(
    settings: Settings, engine: Engine, security_module: SoftwareSecurityModule
) -> Iterator[TestClient]:
    """The API with 2 sales per vendor-minute."""
    with client_with(settings, engine, security_module, vendor_sales_per_minute=2) as c:
        yield c


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CASHIER])
def test_an_account_without_a_vendor_cannot_sell(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    role: Role,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A supervisor (or a cashier whose vendor was taken away) has no float to draw:
    409 no_float, nothing written."""
    op, token = make_operator(role, username="unvendored")
    if role is Role.CASHIER:  # a cashier is made with a vendor: take it away
        with make_sessionmaker(engine).begin() as s:
            s.get(Operator, op.id).vendor_id = None  # type: ignore[union-attr]
    refused(client, token, shop.volume_pan, "10", engine, 409, "no_float")


def test_a_supervisor_cannot_sell_beyond_its_float(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """A supervisor sells from the float of the vendor it is assigned to, like a
    cashier: the float pays each sale and a sale beyond it is refused."""
    vendor_id = _vendor(engine, 2_000)
    _sup, token = make_operator(Role.SUPERVISOR, username="tillsuper", vendor_id=vendor_id)
    first = sell(client, token, shop.amount_pan, "15")
    assert first.status_code == 201, first.text
    assert first.json()["vendor_id"] == vendor_id
    refused(client, token, shop.amount_pan, "5.01", engine, 409, "insufficient_float")
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, vendor_id).float_balance == 500  # type: ignore[union-attr]
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == int(Decimal(first.json()["amount_paid"]) * 100) == 1500


def test_a_supervisor_counts_against_its_vendors_rate_limit(
    strict: TestClient,
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """The vendor limit holds for a supervisor's sales too."""
    vendor_id = _vendor(engine, 100_000)
    _sup, token = make_operator(Role.SUPERVISOR, username="ratesuper", vendor_id=vendor_id)
    for i in range(2):
        assert sell(strict, token, shop.amount_pan, "10", key=f"s{i}").status_code == 201
    before = counts(engine)
    r = sell(strict, token, shop.amount_pan, "10", key="s2")
    assert r.status_code == 429, r.text
    assert (r.json()["code"], r.json()["scope"]) == ("rate_limited", "vendor")
    assert counts(engine) == before
