"""The console's top-up form in chromium: a double submit pays in once (issue 11/13)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Account, LedgerEntry, Role, Vendor
from tests.vending.chromium import browser, double_submit, new_page, page_as  # noqa: F401  (fixtures)
from tests.vending.test_browser import base_url  # noqa: F401  (fixture)
from tests.vending.web.test_office_browser import open_new_vendor

pytestmark = pytest.mark.browser


def test_a_double_submitted_top_up_form_tops_up_once(
    engine: Engine,
    page_as: Callable[[Role, str], Page],  # noqa: F811
) -> None:
    """Both submits of one form are accepted (the second is the first's answer), the
    float shows 250.00 and the ledger has one movement; a fresh form tops up again."""
    admin = page_as(Role.ADMIN, "alice")
    open_new_vendor(admin, "Mwenge Gas")
    admin.get_by_label("Amount paid in").fill("250")
    assert double_submit(admin, "topup") == [303, 303]
    admin.reload()
    expect(admin.locator("#vendor-float")).to_have_text("250.00")
    expect(
        admin.get_by_role("table", name="Float history").locator("tbody tr", has_text="Top-up")
    ).to_have_count(1)
    admin.get_by_label("Amount paid in").fill("10")
    admin.get_by_role("button", name="Top up").click()
    expect(admin.get_by_role("status")).to_have_text("Float topped up.")
    expect(admin.locator("#vendor-float")).to_have_text("260.00")
    with make_sessionmaker(engine)() as s:
        vendor = s.execute(select(Vendor).where(Vendor.name == "Mwenge Gas")).scalar_one()
        assert vendor.float_balance == 26_000
        moves = s.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.code == ledger.vendor_float_account(vendor.id))
        ).scalar_one()
        assert moves == 2
