"""The POS's "Print (Bluetooth)": the bytes written to the printer's GATT characteristic
(a fake navigator.bluetooth records them) are exactly the server's ESC/POS receipt."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.vending.chromium import pos_sell
from tests.vending.sales.conftest import Shop

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]

FAKE_BLUETOOTH = Path(__file__).with_name("fake_bluetooth.js")


def test_bluetooth_print_writes_the_servers_bytes_in_chunks(
    pos: Page, shop: Shop, base_url: str
) -> None:
    """Sell, press Print (Bluetooth): the printer service 0x18F0 is asked for, and the
    writes, each at most 100 bytes, join to the API's receipt.escpos bytes."""
    pos.context.add_init_script(path=FAKE_BLUETOOTH)
    pos.reload()
    pos_sell(pos, shop.volume_pan, "20")
    expect(pos.locator("#pos-result")).to_be_visible()
    sale_id = pos.locator("#pos-result").get_attribute("data-sale-id")
    pos.get_by_role("button", name="Print (Bluetooth)").click()
    expect(pos.locator("#pos-status")).to_have_text("Receipt printed.")
    writes: list[list[int]] = pos.evaluate("() => window.__printed")
    asked = pos.evaluate("() => window.__asked")
    assert asked[0]["filters"] == [{"services": [0x18F0]}]
    assert all(0 < len(w) <= 100 for w in writes)
    assert len(writes) > 1
    assert _printed(pos) == _server_bytes(base_url, shop.cashier_token, sale_id)


def _printed(page: Page) -> bytes:
    writes: list[list[int]] = page.evaluate("() => window.__printed")
    return bytes(b for w in writes for b in w)


def _server_bytes(base_url: str, token: str, sale_id: object) -> bytes:
    answer = httpx.get(
        f"{base_url}/api/v1/sales/{sale_id}/receipt.escpos",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    return answer.content


def test_a_sale_sold_from_the_queue_prints_too(pos: Page, shop: Shop, base_url: str) -> None:
    """A sale queued offline and sold when back prints from the pending list."""
    pos.context.add_init_script(path=FAKE_BLUETOOTH)
    pos.reload()
    pos.context.set_offline(True)
    pos_sell(pos, shop.amount_pan, "12.50")
    pos.context.set_offline(False)
    sold = pos.locator("#pos-p-list li[data-state=sold]")
    expect(sold).to_have_count(1)
    [item] = pos.evaluate("() => window.PosQueue.all()")
    sold.get_by_role("button", name="Print (Bluetooth)").click()
    expect(pos.locator("#pos-status")).to_have_text("Receipt printed.")
    assert _printed(pos) == _server_bytes(base_url, shop.cashier_token, item["sale_id"])


def test_bluetooth_failure_leaves_the_sale(pos: Page, shop: Shop) -> None:
    """No printer chosen (the chooser cancelled): a clear message, the token still shown."""
    pos.context.add_init_script(
        script="Object.defineProperty(navigator, 'bluetooth', {configurable: true, value: "
        "{requestDevice: async () => { throw new Error('User cancelled the requestDevice() "
        "chooser.'); }}});"
    )
    pos.reload()
    pos_sell(pos, shop.volume_pan, "10")
    expect(pos.locator("#pos-result")).to_be_visible()
    pos.get_by_role("button", name="Print (Bluetooth)").click()
    expect(pos.locator("#pos-status")).to_have_text(
        "Not printed: User cancelled the requestDevice() chooser. The sale is unchanged."
    )
    expect(pos.locator("#pos-tokens .token")).to_have_count(1)
