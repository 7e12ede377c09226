"""The provider's callbacks are answered before FastAPI's router, yet their latency is
labelled with their own route, not lumped with unknown paths as ``unmatched``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.vending.ops.test_metrics import _scrape, _value
from tests.vending.payments.conftest import Paying, callback

ROUTE = "/api/v1/payments/mpesa/confirmation"


def test_a_callback_is_timed_under_its_own_route(client: TestClient, paying: Paying) -> None:
    before = _scrape(client)
    txn = paying.pay(paying.shop.pans[0], "5.00")
    assert callback(client, txn).status_code == 200
    after = _scrape(client)

    def moved(route: str) -> float:
        name = "stsgas_request_duration_seconds_count"
        return _value(after, name, method="POST", route=route) - _value(
            before, name, method="POST", route=route
        )

    assert moved(ROUTE) == 1
    assert moved("unmatched") == 0
    assert not any("token=" in dict(labels).get("route", "") for _n, labels in after)
