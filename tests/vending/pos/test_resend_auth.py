"""Queued sales are sent with the session of now: a page opened long ago (its CSRF value
from an older session) still sells its queue once the cashier is signed in; signed out,
or someone else signed in, the queue waits."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Operator, Role, Sale
from stsgas.vending.web.session import COOKIE
from tests.vending.chromium import pos_sell
from tests.vending.conftest import PASSWORD
from tests.vending.sales.conftest import Shop

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]


def _count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(Sale)).scalar_one())


def _new_session(base_url: str, username: str) -> str:
    """A fresh sign-in of ``username`` (another login token): its cookie value."""
    with httpx.Client(base_url=base_url) as c:
        r = c.post("/console/login", data={"username": username, "password": PASSWORD})
        assert r.status_code in (200, 303), r.text
        return str(c.cookies[COOKIE])


def _use_session(page: Page, base_url: str, token: str) -> None:
    host = urlparse(base_url).hostname or "127.0.0.1"
    page.context.add_cookies([{"name": COOKIE, "value": token, "domain": host, "path": "/"}])


def _queue_one(page: Page, meter: str) -> None:
    page.context.set_offline(True)
    pos_sell(page, meter, "10")
    expect(page.locator("#pos-p-list li[data-state=queued]")).to_have_count(1)


def test_queue_sent_with_the_new_sessions_csrf(
    pos: Page, shop: Shop, engine: Engine, base_url: str
) -> None:
    """The cashier signed in again meanwhile (a new token, so a new CSRF value than the
    page holds): the queue is sold with the new session's value."""
    _queue_one(pos, shop.volume_pan)
    stale = pos.locator('meta[name="csrf-token"]').get_attribute("content")
    _use_session(pos, base_url, _new_session(base_url, "shopcashier"))
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(1)
    assert pos.locator('meta[name="csrf-token"]').get_attribute("content") == stale
    assert _count(engine) == 1


def test_queue_waits_for_its_cashier(
    pos: Page,
    shop: Shop,
    engine: Engine,
    base_url: str,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Signed out: the queue stays queued and the page says so. Another cashier signed in
    on the phone: not sent as them. The cashier back: sold once."""
    _queue_one(pos, shop.volume_pan)
    pos.context.clear_cookies()
    pos.context.set_offline(False)
    expect(pos.locator("#pos-status")).to_contain_text(
        "Queued sales wait for shopcashier to sign in again."
    )
    make_operator(Role.CASHIER, username="othercashier", vendor_id=shop.vendor_id)
    _use_session(pos, base_url, _new_session(base_url, "othercashier"))
    pos.context.set_offline(True)
    pos.context.set_offline(False)
    expect(pos.locator("#pos-status")).to_contain_text("wait for shopcashier")
    expect(pos.locator("#pos-p-list li[data-state=queued]")).to_have_count(1)
    assert _count(engine) == 0
    _use_session(pos, base_url, _new_session(base_url, "shopcashier"))
    pos.context.set_offline(True)
    pos.context.set_offline(False)
    expect(pos.locator("#pos-p-list li[data-state=sold]")).to_have_count(1)
    assert _count(engine) == 1
