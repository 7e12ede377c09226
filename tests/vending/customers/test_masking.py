"""Cashiers see what a sale needs: the masked customer; supervisors and up see it all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from stsgas.vending.customers.service import mask_phone
from stsgas.vending.models import Operator, Role
from tests.vending.conftest import auth

#: as answered: money in minor units (the debt was given in major units, "42.00")
GRACE = {
    "name": "Grace Hopper",
    "address": "1 Cobol St",
    "phone": "+255711000111",
    "debt_balance": 4_200,
}
GRACE_IN = {**GRACE, "debt_balance": "42.00"}
MASKED = {"id": 0, "name": "G**** H*****", "phone": "*********111", "masked": True}


@pytest.fixture
def grace(client: TestClient, supervisor_token: str) -> int:
    """A customer with an address, a phone and a debt."""
    r = client.post("/api/v1/customers", json=GRACE_IN, headers=auth(supervisor_token))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR])
def test_supervisors_and_up_see_the_whole_customer(
    client: TestClient,
    grace: int,
    role: Role,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Name, address, phone and debt, on one customer and in the search."""
    h = auth(make_operator(role)[1])
    one = client.get(f"/api/v1/customers/{grace}", headers=h).json()
    assert {k: one[k] for k in GRACE} == GRACE
    found = client.get("/api/v1/customers", params={"q": "711000"}, headers=h).json()
    assert [{k: c[k] for k in GRACE} for c in found] == [GRACE]


def test_a_cashier_gets_the_masked_customer_only(
    client: TestClient, grace: int, cashier_token: str
) -> None:
    """No address, no debt, initials and the phone's last three digits."""
    h = auth(cashier_token)
    one = client.get(f"/api/v1/customers/{grace}", headers=h)
    assert one.status_code == 200
    assert one.json() == {**MASKED, "id": grace}
    found = client.get("/api/v1/customers", params={"q": "711000"}, headers=h)
    assert found.json() == [{**MASKED, "id": grace}]
    assert "Cobol" not in found.text
    assert "4200" not in found.text


def test_mask_phone_keeps_the_last_three_digits() -> None:
    """Separators go; only the last three digits stay."""
    assert mask_phone("+255 711-000 111") == "*********111"
    assert mask_phone("12") == "**"
