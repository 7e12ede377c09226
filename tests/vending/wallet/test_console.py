"""The wallet on the customer's console page: balance, history, pay in once, buy."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from stsgas.vending import web
from tests.vending.wallet.conftest import WalletShop
from tests.vending.web.conftest import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

KEY_RE = re.compile(r'name="key" value="([^"]+)"')
BALANCE_RE = re.compile(r'data-testid="wallet-balance">([^<]+)<')


@pytest.fixture
def console(app: FastAPI, wallet_shop: WalletShop) -> Iterator[TestClient]:
    """A client on the app with the console installed."""
    web.install(app)
    with TestClient(app) as client:
        yield client


def _page(console: TestClient, shop: WalletShop) -> str:
    r = console.get(f"/console/customers/{shop.customer_id}")
    assert r.status_code == 200, r.text
    return str(r.text)


def _buy(console: TestClient, shop: WalletShop, page: str, csrf: str, amount: str) -> Any:
    """The customer page's wallet purchase form for the first meter, sent with its key."""
    return console.post(
        f"/console/customers/{shop.customer_id}/wallet/purchases",
        data={
            "meter_number": shop.pans[0],
            "amount": amount,
            "key": KEY_RE.search(page)[1],  # type: ignore[index]
            "csrf": csrf,
        },
    )


def test_pay_in_once_then_buy_from_the_wallet(console: TestClient, wallet_shop: WalletShop) -> None:
    csrf = sign_in(console, "walletadmin")
    page = _page(console, wallet_shop)
    assert BALANCE_RE.search(page)[1] == "0.00"  # type: ignore[index]
    key = KEY_RE.search(page)[1]  # type: ignore[index]
    url = f"/console/customers/{wallet_shop.customer_id}/wallet/topups"
    form = {"amount": "25.00", "key": key, "csrf": csrf}
    assert console.post(url, data=form).status_code == 200
    page = console.post(url, data=form).text  # the same form sent twice pays in once
    assert BALANCE_RE.search(page)[1] == "25.00"  # type: ignore[index]

    csrf = sign_in(console, "walletseller")
    page = _page(console, wallet_shop)
    assert "Pay into the wallet" not in page  # money in is an admin's job
    sold = _buy(console, wallet_shop, page, csrf, "15.00")
    assert sold.status_code == 200, sold.text
    assert "15.00" in sold.text
    page = _page(console, wallet_shop)
    assert BALANCE_RE.search(page)[1] == "10.00"  # type: ignore[index]
    history = page.split('aria-label="Wallet history"')[1].split("</table>")[0]
    assert history.count("<tr>") == 3  # header, the sale, the top-up
    assert "-15.00" in history
    assert "25.00" in history


def test_a_refused_purchase_says_why(console: TestClient, wallet_shop: WalletShop) -> None:
    csrf = sign_in(console, "walletseller")
    page = _page(console, wallet_shop)
    refused = _buy(console, wallet_shop, page, csrf, "15.00")
    assert refused.status_code == 409
    assert "Nothing sold" in refused.text
