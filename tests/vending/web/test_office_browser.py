"""The office pages in chromium (Playwright) against a real uvicorn server, both backends:
vendors and their floats, supply groups, the SMS log; each closed to a cashier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, Role, Vendor
from stsgas.vending.sms import service as sms
from stsgas.vending.sms.ratelimit import RateLimit
from tests.vending.chromium import browser, new_page, page_as, sign_in  # noqa: F401
from tests.vending.sales.conftest import Shop
from tests.vending.test_browser import base_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

#: a vending key typed into the supply group form: it must never come back
KEY_HEX = "0123456789abcdeffedcba98765432100123456789abcdef"


def open_new_vendor(admin: Page, name: str) -> None:
    """Create vendor ``name`` from the Vendors page, as an admin does; its page opens."""
    admin.get_by_role("link", name="Vendors").click()
    admin.get_by_label("Vendor name").fill(name)
    admin.get_by_role("button", name="Create vendor").click()
    expect(admin.get_by_role("heading", name=f"Vendor {name}")).to_be_visible()


def _cashier_is_kept_out(page: Page, link: str, path: str) -> None:
    """No menu link, and the address typed by hand answers "Not allowed"."""
    sign_in(page, "shopcashier")
    expect(page.get_by_role("link", name="My sales")).to_be_visible()
    expect(page.get_by_role("link", name=link, exact=True)).to_have_count(0)
    response = page.goto(path)
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_an_admin_creates_a_vendor_tops_up_its_float_and_sees_it(
    new_page: Callable[[], Page],  # noqa: F811
    engine: Engine,
    page_as: Callable[[Role, str], Page],  # noqa: F811
) -> None:
    """Create "Kariakoo Gas", pay in 1,000.50: the float, the list and the history show
    it, the ledger-backed float is 100,050 minor units, the top-up is audited; a cashier
    finds no way to the page."""
    admin = page_as(Role.ADMIN, "alice")
    open_new_vendor(admin, "Kariakoo Gas")
    expect(admin.locator("#vendor-float")).to_have_text("0.00")
    expect(admin.get_by_role("table", name="Float history")).to_contain_text("No movements yet")
    admin.get_by_label("Amount paid in").fill("1000,50")
    admin.get_by_role("button", name="Top up").click()
    expect(admin.get_by_role("status")).to_have_text("Float topped up.")
    expect(admin.locator("#vendor-float")).to_have_text("1000.50")
    row = admin.get_by_role("table", name="Float history").locator("tbody tr").first
    expect(row).to_contain_text("Top-up")
    expect(row.locator("td").nth(2)).to_have_text("1000.50")
    expect(row.locator("td").nth(4)).to_have_text("1000.50")
    admin.get_by_role("link", name="All vendors").click()
    expect(admin.locator('tr[data-vendor="Kariakoo Gas"] .float')).to_have_text("1000.50")
    with make_sessionmaker(engine)() as s:
        vendor = s.execute(select(Vendor).where(Vendor.name == "Kariakoo Gas")).scalar_one()
        assert vendor.float_balance == 100_050
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.object_type == "vendor", AuditEntry.object_id == str(vendor.id)
            )
        ).all()
        assert ("vendor.float_topup", "alice") in actions
    _cashier_is_kept_out(new_page(), "Vendors", "/console/vendors")


def test_an_admin_adds_a_supply_group_whose_key_is_never_shown(
    new_page: Callable[[], Page],  # noqa: F811
    page_as: Callable[[Role, str], Page],  # noqa: F811
) -> None:
    """The new key revision is listed with its key's state; the key typed in is in no
    page; a supervisor sees the list without the form; a cashier cannot reach it."""
    admin = page_as(Role.ADMIN, "alice")
    admin.get_by_role("link", name="Supply groups").click()
    for key in (KEY_HEX[:32], KEY_HEX):  # a 16-byte key is too short for DKGA04
        admin.get_by_label("SGC (6 digits)").fill("654321")
        admin.get_by_label("Key revision (1–15)").fill("2")
        admin.get_by_label("Name").fill("Coast region")
        admin.get_by_label("Vending key (hex; sent once, never shown again)").fill(key)
        admin.get_by_role("button", name="Add supply group").click()
        if key != KEY_HEX:
            expect(admin.get_by_role("status")).to_contain_text("Not added: a DKGA04 vending key")
            assert key not in admin.content().lower()
    expect(admin.get_by_role("status")).to_have_text("Supply group added.")
    row = admin.locator('tr[data-sgc="654321"][data-krn="2"]')
    expect(row).to_contain_text("Coast region")
    expect(row).to_contain_text("STA, DKGA04")
    expect(row.locator(".key-state")).to_have_text("in use")
    assert KEY_HEX not in admin.content().lower()
    supervisor = new_page()
    sign_in(supervisor, "shopsuper")
    supervisor.get_by_role("link", name="Supply groups").click()
    expect(supervisor.locator('tr[data-sgc="654321"]')).to_have_count(1)
    expect(supervisor.get_by_role("button", name="Add supply group")).to_have_count(0)
    assert KEY_HEX not in supervisor.content().lower()
    _cashier_is_kept_out(new_page(), "Supply groups", "/console/supply-groups")


def test_an_auditor_reads_the_sms_log(
    new_page: Callable[[], Page],  # noqa: F811
    engine: Engine,
    shop: Shop,
    page_as: Callable[[Role, str], Page],  # noqa: F811
) -> None:
    """A message answered and sent, and one still being answered: both listed with the
    phone masked; the gateway shows as unset; a cashier cannot reach the page."""
    sm = make_sessionmaker(engine)
    limit = RateLimit(limit=10, window=sms.window(60))
    limits = sms.Limits(per_phone=limit, per_meter=limit, per_customer=limit)
    now = datetime.now(UTC)
    first = sms.Inbound(phone="+255711000111", text="HELP", message_id="gw-1")
    admitted = sms.admit(sm, first, limits, now)
    assert isinstance(admitted, sms.Admitted)
    sms.finish(sm, first, admitted.scopes, "Send BUY <meter> <amount>.", now)
    sms.mark_sent(sm, first)
    second = sms.Inbound(phone="+255711000222", text="HELP", message_id="gw-2")
    assert isinstance(sms.admit(sm, second, limits, now), sms.Admitted)
    auditor = page_as(Role.AUDITOR, "audrey")
    auditor.get_by_role("link", name="SMS").click()
    expect(auditor.locator("#sms-outbound")).to_contain_text("no gateway is set")
    table = auditor.get_by_role("table", name="SMS messages")
    expect(table.locator("tbody tr")).to_have_count(2)
    newest, oldest = table.locator("tbody tr").nth(0), table.locator("tbody tr").nth(1)
    expect(newest).to_contain_text("*********222")
    expect(newest.locator(".status")).to_have_text("being answered")
    expect(oldest).to_contain_text("*********111")
    expect(oldest.locator(".status")).to_have_text("answered")
    expect(oldest).to_contain_text("Send BUY <meter> <amount>.")
    expect(oldest.locator("td").nth(5)).to_have_text("sent")
    assert "255711000111" not in auditor.content()
    _cashier_is_kept_out(new_page(), "SMS", "/console/sms")
