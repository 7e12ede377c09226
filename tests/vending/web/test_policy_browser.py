"""The customer page's credit policy in chromium (Playwright) on a real server: a
supervisor adds a lifeline class, puts the customer on it with a debt plan, gives
emergency credit; the next sale's receipt shows each policy as its own line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.vending.chromium import browser, sign_in  # noqa: F401  (fixture)
from tests.vending.conftest import auth
from tests.vending.policies.conftest import Town, town  # noqa: F401  (fixture)
from tests.vending.sales.live import serve
from tests.vending.test_browser import page  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app: Any, town: Town) -> Iterator[str]:  # noqa: F811
    """A real uvicorn server on this test's app and town."""
    with serve(app) as url:
        yield url


def test_policy_set_on_the_customer_page_shows_on_the_receipt(
    page: Page,  # noqa: F811
    base_url: str,
    town: Town,  # noqa: F811
    backend: str,
) -> None:
    """Class, plan and emergency credit from the customer page; then a sale carries the
    free gas, the advance and the instalment as receipt lines."""
    httpx.patch(
        f"{base_url}/api/v1/customers/{town.customer_id}",
        json={"debt_balance": "8.00"},
        headers=auth(town.supervisor_token),
    ).raise_for_status()
    sign_in(page, "townsuper")
    page.goto(f"/console/customers/{town.customer_id}")
    policy = page.locator("#policy")
    expect(policy.locator("#policy-facts")).to_contain_text("none (the tariff's share)")
    page.get_by_label("Code").fill("lifeline")
    page.get_by_label("Free gas a month (m³, volume meters)").fill("6")
    page.get_by_label("Largest emergency credit").fill("20.00")
    page.get_by_role("button", name="Add the class").click()
    page.get_by_label("Customer class", exact=True).select_option("lifeline")
    page.get_by_label("Debt plan", exact=True).select_option("fixed")
    page.get_by_label("Amount a sale (fixed)").fill("3.00")
    page.get_by_role("button", name="Save the policy").click()
    facts = page.locator("#policy-facts")
    expect(facts).to_contain_text("lifeline · 6 m³ free a month · emergency credit up to 20.00")
    expect(facts).to_contain_text("3.00 a sale")
    page.get_by_label("Advance").fill("11.50")
    page.get_by_role("button", name="Give emergency credit").click()
    expect(facts).to_contain_text("11.50 to give with the next sale")
    page.screenshot(path=f"/tmp/stsgas-console-policy-{backend}.png", full_page=True)

    sale = httpx.post(
        f"{base_url}/api/v1/sales",
        json={"meter_number": town.volume_pans[0], "amount": "23.00"},
        headers=auth(town.cashier_token),
    )
    assert sale.status_code == 201, sale.text
    page.goto(f"/console/sales/{sale.json()['sale_id']}")
    receipt = page.locator("main")
    expect(receipt).to_contain_text("Free basic gas")
    expect(receipt).to_contain_text("Debt instalment")
    expect(receipt).to_contain_text("Emergency credit given")
    page.screenshot(path=f"/tmp/stsgas-console-policy-receipt-{backend}.png", full_page=True)
    page.goto(f"/console/customers/{town.customer_id}")
    expect(facts).to_contain_text("owed")
