"""`POST /meters/{id}/key-change` is a four-eyes request (issue 11 point 8): a sale
before the second person approves carries no key change; the one after does."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stsgas.vending.models import Role
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell


def test_next_sale_carries_the_key_change_only_after_a_second_person_approves(
    client: TestClient,
    shop: Shop,
    make_operator: Any,
) -> None:
    """Asked by one supervisor: the sale in between is a plain credit; approved by
    another: the next sale carries the key change tokens first."""
    sup = auth(shop.supervisor_token)
    meter_id = client.get(f"/api/v1/meters/{shop.volume_pan}/lookup", headers=sup).json()[
        "meter_id"
    ]
    asked = client.post(
        f"/api/v1/meters/{meter_id}/key-change",
        json={"ti": "02", "reason": "new tariff index"},
        headers=sup,
    )
    assert asked.status_code == 202, asked.text
    between = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert [t["kind"] for t in between.json()["tokens"]] == ["credit"]
    approve = f"/api/v1/management/requests/{asked.json()['id']}/approve"
    assert client.post(approve, headers=sup).status_code == 403
    done = client.post(approve, headers=auth(make_operator(Role.SUPERVISOR)[1]))
    assert done.status_code == 200, done.text
    after = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert after.status_code == 201, after.text
    assert [t["kind"] for t in after.json()["tokens"]] == ["kct", "kct", "credit"]
    meter = client.get(f"/api/v1/meters/{meter_id}", headers=sup).json()
    assert (meter["ti"], meter["needs_key_change"]) == ("02", False)
