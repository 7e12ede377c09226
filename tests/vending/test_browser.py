"""The console and the POS page in Debian's chromium (Playwright) against a real uvicorn server.

Each test starts uvicorn on 127.0.0.1 (a free port) in a thread, on this test's fresh
database, and drives the pages as a cashier would. The main selling flow also runs on
PostgreSQL; the rest on SQLite. Screenshots go to /tmp for a human look (not committed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import Engine, select

from stsgas.sts import CreditToken, KeyChange1, KeyChange2, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import ManagementRequest, Meter, Operator, Role, Token
from tests.vending import factories
from tests.vending.chromium import browser, pos_sell, sign_in  # noqa: F401  (fixture)
from tests.vending.sales.conftest import Shop, all_sales, meter_config, sale_count
from tests.vending.sales.live import serve
from tests.vending.sales.test_counter_refusals import meter_without_tariff_in_force

pytestmark = pytest.mark.browser

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def base_url(app: FastAPI, shop: Shop) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving this test's app and database."""
    with serve(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:  # noqa: F811
    """A fresh browser context (no cookies), phone-sized; no script errors or CSP breaks."""
    context = browser.new_context(base_url=base_url, viewport={"width": 412, "height": 915})
    p = context.new_page()
    p.set_default_timeout(10_000)
    problems: list[str] = []
    p.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    p.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    yield p
    context.close()
    assert problems == []


def test_console_sell_token_decodes_to_sold_amount(
    page: Page,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    backend: str,
) -> None:
    """Sign in → look up → sell → the receipt's token decodes to the credit sold."""
    sign_in(page, "shopcashier")
    assert page.url.endswith("/console/sell")
    page.get_by_label("Meter number").fill(shop.volume_pan)
    page.get_by_role("button", name="Look up meter").click()
    expect(page.locator("#lookup-name")).to_contain_text("*")
    page.screenshot(path=f"/tmp/stsgas-console-sell-{backend}.png", full_page=True)
    page.get_by_label("Amount paid").fill("20")
    page.get_by_role("button", name="Sell and print token").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    page.screenshot(path=f"/tmp/stsgas-console-receipt-{backend}.png", full_page=True)
    shown = page.locator("#tokens .token").last
    digits = shown.get_attribute("data-digits")
    assert digits is not None
    assert shown.inner_text() == " ".join(digits[i : i + 4] for i in range(0, 20, 4))
    [sale] = all_sales(engine)
    receipt: dict[str, Any] = sale.response or {}
    assert receipt["amount_tendered"] == "20.00"
    expect(page.locator("tr", has_text="Change")).to_contain_text(receipt["change"])
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.volume_pan)
    token = decode(digits, cfg.key())
    assert isinstance(token, CreditToken)
    assert Decimal(token.units).scaleb(-1) == Decimal(receipt["units_credited"])
    expect(page.get_by_text(f"{receipt['units_credited']} m³")).to_be_visible()


@SQLITE_ONLY
def test_pos_double_tap_and_lost_response_sell_once(
    page: Page,
    shop: Shop,
    engine: Engine,
) -> None:
    """A double tap sells once; a retry after a lost response returns that same sale."""
    sign_in(page, "shopcashier")
    page.goto("/pos")
    page.get_by_label("Meter number").fill(shop.volume_pan)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pos-confirm")).to_be_visible()
    page.get_by_label("Amount paid").fill("15")
    page.locator("#pos-sell-btn").dblclick()
    expect(page.locator("#pos-result")).to_be_visible()
    expect(page.locator("#pos-tokens .token")).to_have_count(1)
    page.screenshot(path="/tmp/stsgas-pos-token.png", full_page=True)
    assert sale_count(engine) == 1

    # next sale: the server sells, but the answer is lost on the way back
    page.get_by_role("button", name="Next sale").click()
    page.get_by_label("Meter number").fill(shop.volume_pan)
    page.get_by_role("button", name="Look up").click()
    page.get_by_label("Amount paid").fill("10")
    lost: list[str] = []

    def drop_answer(route: Route) -> None:
        route.fetch()  # the request reaches the server and is sold...
        lost.append(route.request.headers["idempotency-key"])
        route.abort()  # ...but the page never hears back

    page.route("**/pos/api/sell", drop_answer)
    page.locator("#pos-sell-btn").click()
    expect(page.locator("#pos-status")).to_contain_text("Tap Sell again")
    assert sale_count(engine) == 2
    page.unroute("**/pos/api/sell")
    with page.expect_request("**/pos/api/sell") as retried:
        page.locator("#pos-sell-btn").click()
    assert retried.value.headers["idempotency-key"] == lost[0]
    expect(page.locator("#pos-result")).to_be_visible()
    sales = all_sales(engine)
    assert len(sales) == 2
    assert page.locator("#pos-result").get_attribute("data-sale-id") == str(sales[1].id)


@SQLITE_ONLY
def test_pos_says_where_the_money_went_and_why_a_meter_cannot_be_sold_to(
    page: Page,
    shop: Shop,
    engine: Engine,
) -> None:
    """The POS result line names the fixed charge, debt, tax, gas and change; a meter
    with no tariff in force is not offered for sale, with the reason and its code."""
    sign_in(page, "shopcashier")
    page.goto("/pos")
    pos_sell(page, shop.volume_pan, "10")
    expect(page.locator("#pos-r-summary")).to_have_text(
        "Sale #1: paid 9.84 (fixed charge 1.00 · debt 0.90 · tax 1.04 · gas 6.90 · "
        "change 0.16), credit 4.6 m³."
    )
    page.screenshot(path="/tmp/stsgas-pos-split.png", full_page=True)
    pan = meter_without_tariff_in_force(engine, shop, future=False)
    page.get_by_role("button", name="Next sale").click()
    page.get_by_label("Meter number").fill(pan)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pos-status")).to_contain_text(
        "Cannot sell: This meter has no tariff in force"
    )
    expect(page.locator("#pos-status")).to_contain_text("(no_tariff_in_force)")
    expect(page.locator("#pos-sell-btn")).to_be_disabled()
    assert sale_count(engine) == 1


@SQLITE_ONLY
def test_cashier_cannot_open_management_pages(page: Page) -> None:
    """A cashier sees no management link and gets 'Not allowed' on the page itself."""
    sign_in(page, "shopcashier")
    expect(page.get_by_role("link", name="Management tokens")).to_have_count(0)
    answer = page.goto("/console/management")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


@SQLITE_ONLY
def test_wrong_meter_number_shows_lookup_error_before_money(
    page: Page,
    engine: Engine,
    shop: Shop,
) -> None:
    """An unknown meter number stops at the lookup: an error, no amount field, no sale."""
    sign_in(page, "shopsuper")
    page.screenshot(path="/tmp/stsgas-console-dashboard.png", full_page=True)
    page.goto("/console/sell")
    wrong = shop.volume_pan[:-1] + str((int(shop.volume_pan[-1]) + 1) % 10)
    page.get_by_label("Meter number").fill(wrong)
    page.get_by_role("button", name="Look up meter").click()
    expect(page.locator("#lookup-error")).to_contain_text("no money has been taken")
    expect(page.get_by_label("Amount paid")).to_have_count(0)
    page.goto("/pos")
    page.get_by_label("Meter number").fill(wrong)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pos-status")).to_contain_text("No money has been taken")
    expect(page.locator("#pos-confirm")).to_be_hidden()
    assert sale_count(engine) == 0


def test_key_change_asked_on_the_console_and_approved_by_a_second_supervisor(
    page: Page,
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
    backend: str,
) -> None:
    """A supervisor asks for a key change (new KRN, new TI); the form reaches the server
    twice (its first answer lost): one request. A second supervisor approves it and sees
    the two key change tokens in entry order, grouped 4-4-4-4-4; they decode under the
    meter's old key."""
    with make_sessionmaker(engine).begin() as s:
        new_group = factories.supply_group(s, security_module, krn=2).id
    with make_sessionmaker(engine)() as s:
        old = meter_config(s, security_module, shop.volume_pan)
    make_operator(Role.SUPERVISOR, username="second")

    sign_in(page, "shopsuper")
    page.goto("/console/management")
    expect(page.get_by_label("Tariff rate (set tariff only)")).to_be_hidden()
    expect(page.get_by_label("New tariff index (TI, 2 digits)")).to_be_hidden()
    page.get_by_label("Meter number").fill(shop.volume_pan)
    page.get_by_label("Token", exact=True).select_option("key_change")
    expect(page.get_by_label("New tariff index (TI, 2 digits)")).to_be_visible()
    expect(page.get_by_label("Tariff rate (set tariff only)")).to_be_hidden()
    groups = page.get_by_label("New supply group (SGC · KRN)")
    expect(groups.locator(f"option[value='{new_group}']")).to_contain_text("SGC 123456 · KRN 2")
    groups.select_option(str(new_group))
    page.get_by_label("New tariff index (TI, 2 digits)").fill("07")
    page.get_by_label("Reason").fill("new key revision")
    page.screenshot(path=f"/tmp/stsgas-console-key-change-form-{backend}.png", full_page=True)
    sent: list[str] = []

    def send_twice(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(route.request.post_data or "")
        route.fetch()  # reaches the server, but this answer is lost...
        route.fulfill(response=route.fetch())  # ...so the same form is sent again

    page.route("**/console/management", send_twice)
    page.get_by_role("button", name="Ask").dblclick()
    asked = page.locator("#asked")
    expect(asked).to_contain_text("is pending")
    expect(asked).to_contain_text("no second request was made")
    page.unroute("**/console/management")
    assert sent  # the double click may or may not send twice; the route did
    assert all("idempotency_key=" in body for body in sent)
    expect(asked).to_contain_text("new TI 07")
    expect(asked).to_contain_text("SGC 123456 · KRN 2")
    page.screenshot(path=f"/tmp/stsgas-console-key-change-asked-{backend}.png", full_page=True)
    with make_sessionmaker(engine)() as s:
        [req] = s.execute(select(ManagementRequest)).scalars().all()
        assert req.status == "pending"
        assert req.params == {"supply_group_id": new_group, "ti": "07", "with_next_sale": False}
        assert req.idempotency_key is not None
        assert req.idempotency_key.startswith("web-")
    assert f"Request #{req.id} " in asked.inner_text()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "second")
    page.goto("/console/management")
    page.get_by_label("Request number").fill(str(req.id))
    page.get_by_role("button", name="Approve and issue").click()
    tokens = page.locator("#tokens li")
    expect(tokens).to_have_count(2)
    page.screenshot(path=f"/tmp/stsgas-console-key-change-issued-{backend}.png", full_page=True)
    expect(tokens.nth(0).locator(".step")).to_have_text("1. Key change token 1")
    expect(tokens.nth(1).locator(".step")).to_have_text("2. Key change token 2")
    shown = []
    for i in range(2):
        token = tokens.nth(i).locator(".token")
        digits = token.get_attribute("data-digits")
        assert digits is not None
        assert token.inner_text() == " ".join(digits[j : j + 4] for j in range(0, 20, 4))
        shown.append(digits)
    assert isinstance(decode(shown[0], old.key()), KeyChange1)
    assert isinstance(decode(shown[1], old.key()), KeyChange2)
    with make_sessionmaker(engine)() as s:
        rows = s.execute(select(Token).order_by(Token.sequence)).scalars().all()
        assert [t.digits for t in rows] == shown
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert (meter.supply_group_id, meter.ti) == (new_group, "07")
