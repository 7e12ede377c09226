"""The POS with the network cut (Playwright's offline mode, the server stopped too):
sales are queued on the device within the float, the page reopens from its service
worker's cache, and the queue is sold once each when the network is back — also when
the first send's answer is lost."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Vendor
from tests.vending.pos.live import Restartable
from tests.vending.sales.conftest import Shop, all_sales, sale_count

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]


def _queue(page: Page) -> list[dict[str, Any]]:
    """The sales queued on the device, as the page keeps them."""
    items: list[dict[str, Any]] = page.evaluate("() => window.PosQueue.all()")
    return items


def _sell_offline(page: Page, meter: str, amount: str) -> None:
    page.get_by_label("Meter number").fill(meter)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pos-c-name")).to_have_text("not checked (offline)")
    page.get_by_label("Amount paid").fill(amount)
    page.locator("#pos-sell-btn").click()


def _next(page: Page) -> None:
    page.locator("#pos-q-next").click()


def test_offline_sales_queue_reopen_from_cache_and_sell_once_when_back(
    pos: Page, server: Restartable, shop: Shop, engine: Engine
) -> None:
    """Offline: two sales are queued ("token will follow by SMS"); with the server gone
    too the page reopens from the cache and still lists them; back online the queue
    drains, each sale sold once under its own Idempotency-Key, and a second drain
    sells nothing more."""
    pos.context.set_offline(True)
    _sell_offline(pos, shop.volume_pan, "15")
    expect(pos.locator("#pos-queued")).to_be_visible()
    expect(pos.locator("#pos-queued")).to_contain_text("token will follow by SMS")
    expect(pos.locator("#pos-status")).to_contain_text("token will follow by SMS")
    _next(pos)
    _sell_offline(pos, shop.amount_pan, "10.50")
    expect(pos.locator("#pos-p-count")).to_have_text("2")
    expect(pos.locator("#pos-p-total")).to_have_text("25.50")
    expect(pos.locator("#pos-p-float")).to_have_text("9974.50")  # 10,000.00 less 25.50
    expect(pos.locator("#pos-p-list li[data-state=queued]")).to_have_count(2)
    pos.screenshot(path="/tmp/stsgas-pos-offline-queued.png", full_page=True)

    server.stop()  # nothing answers: the page can only come from the cache
    pos.reload()
    expect(pos.get_by_role("heading", name="Mobile POS")).to_be_visible()
    expect(pos.locator("#pos-p-list li[data-state=queued]")).to_have_count(2)
    expect(pos.locator("#pos-status")).to_contain_text("Offline")
    assert sale_count(engine) == 0
    keys = sorted(i["key"] for i in _queue(pos))

    server.start()
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(2)
    expect(pos.locator("#pos-p-count")).to_have_text("0")
    pos.screenshot(path="/tmp/stsgas-pos-offline-sold.png", full_page=True)
    sales = all_sales(engine)
    assert sorted(s.idempotency_key or "" for s in sales) == sorted(f"pos-{k}" for k in keys)
    assert sorted(str(s.id) for s in sales) == sorted(
        str(i["sale_id"]) for i in _queue(pos) if i["state"] == "sold"
    )
    pos.reload()  # a second drain finds nothing open
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(2)
    assert sale_count(engine) == 2
    pos.locator("#pos-p-clear").click()
    expect(pos.locator("#pos-pending")).to_be_hidden()


def test_lost_answer_is_sent_again_and_sold_once(pos: Page, shop: Shop, engine: Engine) -> None:
    """The queued sale reaches the server but its answer is lost: it stays queued, is
    sent again with the same key, and the server answers the same sale."""
    pos.context.set_offline(True)
    _sell_offline(pos, shop.volume_pan, "12")
    expect(pos.locator("#pos-p-list li[data-state=queued]")).to_have_count(1)
    sent: list[str] = []

    def lose_first_answer(route: Route) -> None:
        sent.append(route.request.headers["idempotency-key"])
        if len(sent) == 1:
            route.fetch()  # sold on the server...
            route.abort()  # ...the answer never comes back
        else:
            route.continue_()

    pos.route("**/pos/api/sell", lose_first_answer)
    with pos.expect_request("**/pos/api/sell"):
        pos.context.set_offline(False)
    pos.wait_for_function(
        "() => document.querySelector('#pos-p-list li').dataset.state === 'queued'"
    )
    assert len(sent) == 1
    assert sale_count(engine) == 1  # the lost answer's sale
    pos.context.set_offline(True)
    pos.context.set_offline(False)  # back again: the queue is sent once more
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(1)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    [sale] = all_sales(engine)
    assert sale.idempotency_key == f"pos-{sent[0]}"
    assert pos.locator("#pos-p-list li").inner_text().count(f"sale #{sale.id}") == 1


def test_slow_answer_times_out_and_the_resend_sells_once(
    pos: Page, shop: Shop, engine: Engine
) -> None:
    """The server sells but answers after the page's send timeout: the page gives up,
    keeps the sale queued, sends it again with the same key and gets the same sale."""
    pos.evaluate("() => { window.stsgasPosSendTimeoutMs = 500; }")
    pos.context.set_offline(True)
    _sell_offline(pos, shop.amount_pan, "8")
    sent: list[str] = []

    def answer_late(route: Route) -> None:
        sent.append(route.request.headers["idempotency-key"])
        if len(sent) > 1:
            route.continue_()
            return
        answer = route.fetch()  # sold on the server...
        time.sleep(1.5)  # ...and answered after the page stopped waiting
        with contextlib.suppress(PlaywrightError):
            route.fulfill(response=answer)

    pos.route("**/pos/api/sell", answer_late)
    with pos.expect_request("**/pos/api/sell"):
        pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=queued]")).to_contain_text("no answer yet")
    assert sale_count(engine) == 1
    pos.context.set_offline(True)
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(1)
    assert sent == [sent[0], sent[0]]
    [sale] = all_sales(engine)
    assert sale.idempotency_key == f"pos-{sent[0]}"


def test_float_limit_holds_offline(pos: Page, shop: Shop, engine: Engine) -> None:
    """Offline the POS refuses a sale over the float last read less what is queued;
    nothing is queued for it, and the queued ones sell when back."""
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Vendor).where(Vendor.id == shop.vendor_id).values(float_balance=3_000))
    pos.reload()
    pos.wait_for_function(
        "() => JSON.parse(localStorage.getItem('stsgas.pos.float.shopcashier')).minor === 3000"
    )
    pos.context.set_offline(True)
    _sell_offline(pos, shop.volume_pan, "20")
    expect(pos.locator("#pos-queued")).to_be_visible()
    _next(pos)
    _sell_offline(pos, shop.volume_pan, "15")
    expect(pos.locator("#pos-status")).to_contain_text(
        "Refused offline: 15 is more than the float left (10.00 after 20.00 queued)"
    )
    expect(pos.locator("#pos-queued")).to_be_hidden()
    pos.get_by_label("Amount paid").fill("10")
    pos.locator("#pos-sell-btn").click()
    expect(pos.locator("#pos-p-count")).to_have_text("2")
    expect(pos.locator("#pos-p-float")).to_have_text("0.00")
    assert len(_queue(pos)) == 2
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(2)
    assert sale_count(engine) == 2


def test_refused_at_sync_shows_the_reason(pos: Page, shop: Shop, engine: Engine) -> None:
    """A queued sale the server refuses (a blocked meter) is marked refused with the
    server's reason and code; nothing is sold."""
    pos.context.set_offline(True)
    _sell_offline(pos, shop.blocked_pan, "10")
    pos.context.set_offline(False)
    refused = pos.locator("#pos-p-list li[data-state=refused]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("(meter_not_active)")
    assert sale_count(engine) == 0


def test_signing_out_drops_the_offline_page(pos: Page, shop: Shop) -> None:
    """After Sign out the POS page is no longer kept, so nobody opens it offline; the
    sales the phone holds stay on it."""
    pos.context.set_offline(True)
    _sell_offline(pos, shop.volume_pan, "5")
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(1)
    kept = "() => caches.open('stsgas-pos-v1').then(c => c.match('/pos')).then(r => !!r)"
    assert pos.evaluate(kept) is True
    pos.get_by_role("button", name="Sign out").click()
    pos.wait_for_url("**/console/login**")
    for _ in range(50):  # the login page drops it as it opens
        if not pos.evaluate(kept):
            break
        pos.wait_for_timeout(100)
    assert pos.evaluate(kept) is False
    stored = pos.evaluate(
        """() => new Promise((done) => {
            const req = indexedDB.open("stsgas-pos", 1);
            req.onsuccess = () => {
                const all = req.result.transaction("sales").objectStore("sales").getAll();
                all.onsuccess = () => done(all.result.length);
            };
        })"""
    )
    assert stored == 1
    pos.context.set_offline(True)
    with pytest.raises(PlaywrightError):
        pos.goto("/pos")
