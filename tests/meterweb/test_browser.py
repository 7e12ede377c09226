"""The meter page beside the console, in Debian's chromium, against ``stsgas serve --demo``.

The server is a real process started as ``make run`` starts it (a fresh SQLite file
and meter state folder in the test's folder). A cashier sells a token in the console,
follows the menu to the virtual meter and types the token on its keypad by clicking;
the LCD shows the credit. Screenshots go to /tmp for a human look (not committed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.meterweb.support import free_port
from tests.processes import answer, spawn, stop
from tests.vending.chromium import browser, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

METER = "01000000016"  # the first demo meter (Amina Juma, volume)


@contextmanager
def demo_server(folder: Path) -> Iterator[str]:
    """``stsgas serve --demo`` in ``folder`` (its database and meters in ./var) until the end."""
    port = free_port()
    env = {
        **os.environ,
        "STSGAS_DATABASE_URL": f"sqlite:///{folder / 'var' / 'stsgas.db'}",
        "STSGAS_LOG_FORMAT": "console",
    }
    env.pop("STSGAS_MASTER_KEY", None)
    env.pop("STSGAS_MASTER_KEY_FILE", None)
    proc = spawn(
        [sys.executable, "-m", "stsgas", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        meters = f"{url}/meter/api/meters"
        answer(lambda: httpx.get(meters, timeout=2), proc, seconds=60, status=200)
        yield url
    finally:
        out, _ = stop(proc, timeout=20)
    assert f"virtual meters at {url}/meter/" in out


@contextmanager
def browser_page(browser: Browser, url: str) -> Iterator[Page]:  # noqa: F811
    """A fresh context on ``url``; no script error, policy break or missing file allowed
    (the API's refusals are answers the page shows, and chromium asks for a favicon)."""
    context = browser.new_context(base_url=url, viewport={"width": 1100, "height": 950})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") and "/api/" not in r.url
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert problems == []


def _sell(page: Page, amount: str) -> tuple[str, str]:
    """Sell on the console's sell page; the token's digits and the m³ on the receipt."""
    page.get_by_label("Meter number").fill(METER)
    page.get_by_role("button", name="Look up meter").click()
    expect(page.locator("#lookup-name")).to_contain_text("*")
    page.get_by_label("Amount paid").fill(amount)
    page.get_by_role("button", name="Sell and print token").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    digits = page.locator("#tokens .token").last.get_attribute("data-digits")
    assert digits is not None
    credited = page.locator("td.num", has_text="m³").first.inner_text()  # "2.200 m³ at …"
    litres = int(Decimal(credited.split()[0]) * 1000)
    return digits, str(Decimal(litres) / 1000)  # as the meter shows m³


def _click_keys(page: Page, keys: str) -> None:
    keypad = page.get_by_role("group", name="Keypad")
    names = {"#": "enter", "*": "clear", "C": "cancel"}
    for key in keys:
        keypad.get_by_role("button", name=names.get(key, key), exact=True).click()


def test_a_token_sold_in_the_console_is_typed_on_the_meter_page(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Sell → menu → meter page → click the token → the LCD shows the credit; a query
    code shows; a magnet shows tamper; after a server restart the meter is the same."""
    with demo_server(tmp_path) as url, browser_page(browser, url) as page:
        sign_in(page, "cashier", "demo-cashier")
        digits, m3 = _sell(page, "500")
        page.get_by_role("link", name="Virtual meter").click()
        expect(page.locator("#meters button")).to_have_count(3)  # the three demo meters
        assert page.url.startswith(f"{url}/meter/")
        page.get_by_role("button", name=f"{METER} (volume)").click()
        lcd = page.locator("#lcd")
        expect(lcd).to_contain_text("CR 0")
        _click_keys(page, digits[:4])
        expect(lcd).to_have_text(digits[:4])
        _click_keys(page, digits[4:] + "#")
        expect(page.locator("#credit")).to_have_text(f"{m3} m³")
        expect(lcd).to_contain_text(m3)
        expect(page.locator("#log")).to_contain_text("token accepted")
        page.screenshot(path="/tmp/stsgas-meterweb-credit.png", full_page=True)

        _click_keys(page, "06#")  # query 06: the meter's number
        expect(lcd).to_contain_text("600727" + METER)
        page.get_by_role("button", name="01 remaining credit").click()
        expect(lcd).to_contain_text(m3)

        page.get_by_role("button", name="valve open key").click()
        expect(page.locator("#led-valve")).to_have_class("led valve on")
        page.get_by_label("magnet at the sensor").check()
        expect(page.locator("#alarms")).to_contain_text("tamper")
        expect(page.locator("#led-alarm")).to_have_class("led alarm on")
        expect(page.locator("#valve")).to_have_text("closed (tamper)")
        page.screenshot(path="/tmp/stsgas-meterweb-tamper.png", full_page=True)

    with demo_server(tmp_path) as url, browser_page(browser, url) as page:
        page.goto(f"/meter/#{METER}")
        expect(page.locator("#meter-number")).to_have_text(METER)
        expect(page.locator("#credit")).to_have_text(f"{m3} m³")
        expect(page.locator("#alarms")).to_contain_text("tamper")
        # the same token again is refused: the meter remembers its TID across the restart
        _click_keys(page, digits + "#")
        expect(page.locator("#log")).to_contain_text("token rejected")
        expect(page.locator("#credit")).to_have_text(f"{m3} m³")


def test_a_bad_action_shows_its_problem_on_the_page(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The page shows a refused action's code and detail; the meter is unchanged."""
    with demo_server(tmp_path) as url, browser_page(browser, url) as page:
        page.goto("/meter/")
        expect(page.locator("#meter-number")).to_have_text(METER)
        page.get_by_label("litres").fill("0")
        page.get_by_role("button", name="draw", exact=True).click()
        expect(page.locator("#problem")).to_contain_text("bad_litres")
        shown: Any = httpx.get(f"{url}/meter/api/meters/{METER}", timeout=5).json()
        assert shown["credit"] == "0"
