"""Field settings in the console, in chromium (Playwright) against a real uvicorn server:
one supervisor asks, a second one approves and reads the signed IR command."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from stsgas.irproto import check_mac, parse_settings
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry
from tests.vending.chromium import browser, hand_over, sign_in  # noqa: F401  (fixture)
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.test_browser import base_url, page  # noqa: F401

pytestmark = pytest.mark.browser


def test_settings_asked_then_approved_by_a_second_supervisor(
    page: Page,  # noqa: F811
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    second_supervisor: str,
    backend: str,
) -> None:
    """The form shows the settings fields for the kind only; the asker sees the request
    waiting and no approve button on it; the second supervisor approves from the list
    and reads a command signed under the meter's key with the settings as typed."""
    sign_in(page, "shopsuper")
    page.goto("/console/management")
    settings_box = page.locator('fieldset[data-kind="field_settings"]')
    expect(settings_box).to_be_hidden()
    page.get_by_label("Meter number").fill(shop.volume_pan)
    page.get_by_label("Token", exact=True).select_option("field_settings")
    expect(settings_box).to_be_visible()
    settings_box.get_by_label("IR counter").fill("4")
    page.get_by_label("Overdraft").fill("2.5")
    page.get_by_label("Battery low 1").fill("3.45")
    page.get_by_label("Time zone").fill("Africa/Nairobi")
    page.get_by_label("Reason", exact=True).fill("customer on a longer billing cycle")
    page.get_by_role("button", name="Ask").click()
    asked = page.locator("#asked")
    expect(asked).to_contain_text("Field settings (IR)")
    expect(asked).to_contain_text("IR counter 4 · overdraft 2.5 · battery_low_1_v 3.45")
    rid = re.search(r"#(\d+)", asked.inner_text())
    assert rid is not None
    mine = page.locator(f"#pending-{rid.group(1)}")
    expect(mine).to_contain_text("yours: another supervisor approves it")
    expect(mine.get_by_role("button")).to_have_count(0)

    hand_over(page, second_supervisor)
    page.get_by_role("button", name=f"Approve #{rid.group(1)}").click()
    expect(page.locator("#issued")).to_contain_text("issued")
    expect(page.locator("#issued")).to_contain_text("takes every setting in it or none")
    page.screenshot(path=f"/tmp/stsgas-console-field-settings-{backend}.png", full_page=True)
    command = page.locator("#ir-command").inner_text().strip()
    payload, _, mac = command.rpartition(" ")
    _name, seq, pairs = payload.split(" ")
    assert seq == "4"
    assert parse_settings(pairs) == (
        ("overdraft", "2.5"),
        ("battery_low_1_v", "3.45"),
        ("timezone", "Africa/Nairobi"),
    )
    with make_sessionmaker(engine)() as s:
        key = meter_config(s, security_module, shop.volume_pan).key().value
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert check_mac(key, payload, mac)
    assert [a for a in actions if a.startswith("mgmt.")] == ["mgmt.request", "mgmt.approve"]
