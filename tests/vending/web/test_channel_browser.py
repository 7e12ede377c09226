"""Tokens by SMS in chromium (Playwright) against a real uvicorn server: a supervisor
opts the customer in on the customer page, a sale follows, and an admin finds the token
SMS, phone masked, on the SMS page."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from stsgas.sts import group_digits
from stsgas.vending.jobs.wiring import RetryingGateway
from stsgas.vending.models import Operator, Role
from stsgas.vending.sms.gateway import MemorySmsGateway
from tests.vending.chromium import browser, new_page, sign_in  # noqa: F401  (fixtures)
from tests.vending.sales.conftest import Shop
from tests.vending.test_browser import base_url  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def test_opt_in_on_the_customer_page_then_the_token_sms_is_on_the_sms_page(
    new_page: Callable[[], Page],  # noqa: F811
    base_url: str,  # noqa: F811
    app: FastAPI,
    shop: Shop,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    make_operator(Role.ADMIN, username="alice")
    supervisor = new_page()
    sign_in(supervisor, "shopsuper")
    supervisor.get_by_role("link", name="Customers").click()
    supervisor.get_by_role("link", name="Ada Lovelace").click()
    expect(supervisor.locator("#sms-tokens")).to_have_text("no")
    supervisor.get_by_label(re.compile("Send the token")).check()
    supervisor.get_by_role("button", name="Save", exact=True).click()
    expect(supervisor.locator("#sms-tokens")).to_have_text("yes, after every sale")

    sold = httpx.post(
        f"{base_url}/api/v1/sales",
        json={"meter_number": shop.volume_pan, "amount": "20", "channel": "pos"},
        headers={"Authorization": f"Bearer {shop.cashier_token}"},
        timeout=30,
    ).json()
    app.state.delivery.drain()
    gateway = app.state.sms_gateway
    memory = gateway.inner if isinstance(gateway, RetryingGateway) else gateway
    assert isinstance(memory, MemorySmsGateway)
    credit = next(t["digits"] for t in sold["tokens"] if t["kind"] == "credit")
    assert [m.reference for m in memory.sent] == [f"stsgas-sale-{sold['sale_id']}"]

    admin = new_page()
    sign_in(admin, "alice")
    admin.get_by_role("link", name="SMS").click()
    row = admin.get_by_role("table", name="SMS messages").locator("tbody tr").first
    expect(row).to_contain_text("token sent after a sale")
    expect(row).to_contain_text(group_digits(credit))
    expect(row).to_contain_text("*********001")
    expect(admin.get_by_role("table", name="USSD sessions")).to_contain_text("No USSD sessions")
    assert "700000001" not in admin.content()
