"""The one chromium the browser tests share: Debian's, headless, with no background traffic.

Import the ``browser`` (and ``new_page``, ``page_as``) fixtures from here so that every
browser test launches chromium the same way; ``sign_in`` is the console's login as a person
does it, ``hand_over`` the same page passed to another supervisor, ``double_submit`` a
form posted twice at once as a double click sends it, ``pos_sell`` a sale tapped on the POS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from stsgas.vending.models import Operator, Role
from tests.vending.conftest import PASSWORD

#: how long an expect() waits for the page to get there: Playwright's 5 s default was
#: passed by a POS sale's answer on a 2-core CI machine running the suite beside the
#: server (it passed alone); a wait budget, not a timing assertion
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for the module (launching is the slow part)."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[[], Page]]:
    """Fresh browser contexts (one per person) on the test server; no script errors allowed."""
    contexts = []
    problems: list[str] = []

    def make() -> Page:
        context = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 900})
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        p.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
        return p

    yield make
    for c in contexts:
        c.close()
    assert problems == []


@pytest.fixture
def page_as(
    new_page: Callable[[], Page], make_operator: Callable[..., tuple[Operator, str]]
) -> Callable[[Role, str], Page]:
    """``page_as(role, username)``: a new operator, signed in on a fresh page of its own."""

    def make(role: Role, username: str) -> Page:
        make_operator(role, username=username)
        page = new_page()
        sign_in(page, username)
        return page

    return make


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in on the console's login form and wait for the page it leads to."""
    page.goto("/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


#: the form posted twice at once from the page, as a double click sends it: the same
#: fields (CSRF token, form token, amount) with the session's cookie; each answer is its
#: status, a redirect counted as 303 (the fetch does not follow it)
_DOUBLE_SUBMIT = """async (labelledBy) => {
  const form = document.querySelector(`form[aria-labelledby="${labelledBy}"]`);
  const body = new URLSearchParams(new FormData(form));
  const send = () => fetch(form.action, {method: "POST", body, redirect: "manual"})
    .then((r) => r.type === "opaqueredirect" ? 303 : r.status);
  return Promise.all([send(), send()]);
}"""


def double_submit(page: Page, labelled_by: str) -> list[int]:
    """Post the form labelled by ``labelled_by`` twice at once; the two answers' statuses."""
    statuses: list[int] = page.evaluate(_DOUBLE_SUBMIT, labelled_by)
    return statuses


def pos_sell(page: Page, meter: str, amount: str) -> None:
    """On the POS: look ``meter`` up, enter ``amount`` and tap Sell (the answer is the
    caller's to wait for: a receipt, a queued sale or a refusal)."""
    page.get_by_label("Meter number").fill(meter)
    page.get_by_role("button", name="Look up").click()
    page.get_by_label("Amount paid").fill(amount)
    page.locator("#pos-sell-btn").click()


def hand_over(page: Page, username: str) -> None:
    """Sign out, sign ``username`` in on the same page and open the management page."""
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, username)
    page.goto("/console/management")
