"""The wallet over HTTP: read it, top it up once per key, buy from it (both APIs)."""

from __future__ import annotations

import warnings

from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale
from tests.vending.conftest import auth
from tests.vending.wallet.conftest import WalletShop, ledger_balanced

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _wallet(client: TestClient, shop: WalletShop, customer_id: int | None = None) -> dict:  # type: ignore[type-arg]
    cid = shop.customer_id if customer_id is None else customer_id
    r = client.get(f"/api/v1/customers/{cid}/wallet", headers=auth(shop.admin_token))
    assert r.status_code == 200, r.text
    body: dict = r.json()  # type: ignore[type-arg]
    return body


def _top_up(client: TestClient, shop: WalletShop, amount: str, key: str | None) -> dict:  # type: ignore[type-arg]
    headers = auth(shop.admin_token) | ({"Idempotency-Key": key} if key else {})
    r = client.post(
        f"/api/v1/customers/{shop.customer_id}/wallet/topups",
        json={"amount": amount},
        headers=headers,
    )
    return {
        "status": r.status_code,
        "body": r.json(),
        "replayed": r.headers.get("Idempotent-Replayed"),
    }


def test_top_up_is_credited_once_per_key_and_needs_one(
    client: TestClient, wallet_shop: WalletShop, engine: Engine
) -> None:
    assert _top_up(client, wallet_shop, "25.00", None)["body"]["code"] == "invalid_input"
    first = _top_up(client, wallet_shop, "25.00", "till-1")
    again = _top_up(client, wallet_shop, "25.00", "till-1")
    assert (first["status"], first["body"]["balance"]) == (201, 2_500)
    assert (again["status"], again["body"], again["replayed"]) == (201, first["body"], "true")
    bad = _top_up(client, wallet_shop, "-1", "till-2")
    assert (bad["status"], bad["body"]["code"]) == (422, "bad_amount")
    view = _wallet(client, wallet_shop)
    assert view["balance"] == 2_500
    assert [(m["amount"], m["balance"]) for m in view["moves"]] == [(2_500, 2_500)]
    assert ledger_balanced(engine)


def test_buy_from_the_wallet_on_both_apis(
    client: TestClient, wallet_shop: WalletShop, engine: Engine
) -> None:
    _top_up(client, wallet_shop, "40.00", "till-1")
    seller = auth(wallet_shop.seller_token)
    headers = seller | {"Idempotency-Key": "web-1"}
    url = f"/api/v1/customers/{wallet_shop.customer_id}/wallet/purchases"
    body = {"meter_number": wallet_shop.pans[0], "amount": "15.00"}
    r = client.post(url, json=body, headers=headers)
    assert r.status_code == 201, r.text
    again = client.post(url, json=body, headers=headers)
    assert again.json() == r.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    sale = client.post(
        "/api/v1/sales",
        json={"meter_number": wallet_shop.pans[1], "amount": "15.00", "paid_from": "wallet"},
        headers=seller,
    )
    assert sale.status_code == 201, sale.text
    view = _wallet(client, wallet_shop)
    assert view["balance"] == 1_000
    assert [m["sale_id"] for m in view["moves"]] == [
        sale.json()["sale_id"],
        r.json()["sale_id"],
        None,
    ]
    poor = client.post(url, json=body, headers=seller)
    assert (poor.status_code, poor.json()["code"]) == (409, "insufficient_wallet")
    other = client.post(
        url,
        json={"meter_number": wallet_shop.other_pan, "amount": "5.00"},
        headers=seller,
    )
    assert (other.status_code, other.json()["code"]) == (409, "not_customers_meter")
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 2
    assert ledger_balanced(engine)


def test_an_unknown_customer_has_no_wallet(client: TestClient, wallet_shop: WalletShop) -> None:
    r = client.get("/api/v1/customers/999/wallet", headers=auth(wallet_shop.admin_token))
    assert (r.status_code, r.json()["code"]) == (404, "wallet_not_found")
