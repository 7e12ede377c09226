"""The console's cancel flow in chromium (Playwright) against a real uvicorn server: the
preview says what the customer will see on the meter before anyone confirms."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from stsgas.sts import ClearCredit, CreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Sale, Vendor
from tests.vending.chromium import browser, hand_over, sign_in  # noqa: F401  (fixture)
from tests.vending.conftest import auth
from tests.vending.sales.conftest import FLOAT, Shop, meter_config
from tests.vending.test_browser import base_url, page  # noqa: F401

pytestmark = pytest.mark.browser


def test_volume_take_back_previewed_asked_and_approved_by_a_second_supervisor(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    second_supervisor: str,
    backend: str,
) -> None:
    """A supervisor cancels a volume sale whose token was entered: the preview says the
    meter's credit goes from what it shows to what is left, before anything is asked;
    the second supervisor sees the same words, approves, and gets clear credit then the
    rest, which decode under the meter's key. The float is refunded once."""
    sold = httpx.post(
        f"{base_url}/api/v1/sales",
        headers=auth(shop.cashier_token),
        json={"meter_number": shop.volume_pan, "amount": "30"},
    )
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    shows = Decimal(sale["units_credited"]) + Decimal("12.3")  # another sale's gas stays

    sign_in(page, "shopsuper")
    page.goto(f"/console/sales/{sale['sale_id']}")
    page.get_by_label("Reason").fill("paid for the neighbour's meter")
    page.get_by_label("Entered: take its credit back off the meter").check()
    page.get_by_label("Credit the meter shows now").fill(str(shows))
    page.get_by_role("button", name="Preview the cancellation").click()
    preview = page.locator("#cancel-preview")
    expect(preview).to_contain_text(f"The meter's credit goes from {shows} m³ to 12.3 m³")
    expect(preview).to_contain_text("enter clear credit, then a credit of 12.3 m³")
    page.screenshot(path=f"/tmp/stsgas-console-cancel-preview-{backend}.png", full_page=True)
    with make_sessionmaker(engine)() as s:  # previewing changes nothing
        assert s.get(Sale, sale["sale_id"]).status == "completed"  # type: ignore[union-attr]
    words = preview.inner_text().rstrip(".")
    page.get_by_role("button", name="Ask a second supervisor to approve").click()
    expect(page.get_by_role("status").first).to_contain_text("waits for a second supervisor")

    hand_over(page, second_supervisor)
    row = page.locator("#pending tbody tr").first
    expect(row).to_contain_text("Cancel sale (take credit back)")
    expect(row).to_contain_text(words)
    row_id = row.get_attribute("id")
    assert row_id is not None
    rid = re.sub(r"\D", "", row_id)
    page.get_by_role("button", name=f"Approve #{rid}").click()
    tokens = page.locator("#tokens li")
    expect(tokens).to_have_count(2)
    expect(page.locator("#issued")).to_contain_text(words)
    page.screenshot(path=f"/tmp/stsgas-console-cancel-issued-{backend}.png", full_page=True)
    digits = [tokens.nth(i).locator(".token").get_attribute("data-digits") for i in range(2)]
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.volume_pan)
        assert s.get(Sale, sale["sale_id"]).status == "cancelled"  # type: ignore[union-attr]
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]
        assert s.execute(select(Sale.status)).scalars().all() == ["cancelled"]
    cleared, rest = (decode(d or "", cfg.key()) for d in digits)
    assert isinstance(cleared, ClearCredit)
    assert isinstance(rest, CreditToken)
    assert rest.units == 123
