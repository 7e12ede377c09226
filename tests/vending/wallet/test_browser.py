"""The wallet panel in chromium: a double-submitted pay-in form pays in once, and a
supervisor buys gas from the wallet with the form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.vending.chromium import browser, double_submit, new_page, sign_in  # noqa: F401  (fixtures)
from tests.vending.sales.live import serve
from tests.vending.wallet.conftest import WalletShop

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]


@pytest.fixture
def base_url(app: Any, wallet_shop: WalletShop) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving this test's app and database."""
    with serve(app) as url:
        yield url


def test_pay_in_once_then_buy_from_the_wallet_in_the_browser(
    new_page: Callable[[], Page],  # noqa: F811
    wallet_shop: WalletShop,
) -> None:
    customer = f"/console/customers/{wallet_shop.customer_id}"
    admin = new_page()
    sign_in(admin, "walletadmin")
    admin.goto(customer)
    expect(admin.get_by_test_id("wallet-balance")).to_have_text("0.00")
    admin.get_by_label("Amount received").fill("40")
    assert double_submit(admin, "w-in") == [303, 303]
    admin.reload()
    expect(admin.get_by_test_id("wallet-balance")).to_have_text("40.00")
    history = admin.get_by_role("table", name="Wallet history").locator("tbody tr")
    expect(history).to_have_count(1)

    seller = new_page()
    sign_in(seller, "walletseller")
    seller.goto(customer)
    expect(seller.get_by_label("Amount received")).to_have_count(0)
    seller.get_by_label("Meter", exact=True).select_option(wallet_shop.pans[1])
    seller.get_by_label("Amount", exact=True).fill("15")
    seller.get_by_role("button", name="Buy").click()
    seller.wait_for_url("**/console/sales/*")
    seller.goto(customer)
    expect(seller.get_by_test_id("wallet-balance")).to_have_text("25.00")
    expect(history).to_have_count(1)  # the admin's page is not live
    admin.reload()
    expect(history).to_have_count(2)
