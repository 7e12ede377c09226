"""The POS in chromium against a real uvicorn server: a phone-sized page, signed in as the
shop's cashier, on /pos with its service worker in control."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from stsgas.vending import web
from tests.vending.chromium import browser, sign_in  # noqa: F401  (fixture)
from tests.vending.pos.live import Restartable
from tests.vending.sales.conftest import Shop


@pytest.fixture
def server(app: FastAPI, shop: Shop) -> Iterator[Restartable]:
    """A real uvicorn server on 127.0.0.1 serving this test's app and database."""
    web.install(app)
    live = Restartable(app)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def base_url(server: Restartable) -> str:
    """The server's address (the page's origin)."""
    return server.url


@pytest.fixture
def pos(browser: Browser, base_url: str) -> Iterator[Page]:  # noqa: F811
    """The cashier's phone on /pos, its service worker controlling the page and the float
    read; no script errors."""
    context = browser.new_context(base_url=base_url, viewport={"width": 412, "height": 915})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    sign_in(page, "shopcashier")
    page.goto("/pos")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("() => localStorage.getItem('stsgas.pos.float.shopcashier') !== null")
    expect(page.get_by_role("heading", name="Mobile POS")).to_be_visible()
    yield page
    context.close()
    assert problems == []
