"""The API docs (Swagger UI, ReDoc) render every operation in chromium with no other host.

A utility's server often has no internet: the pages and their scripts must come
from the app itself. Every request to a host other than the test server is
aborted and recorded; the pages must still show all the API's operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Route, expect

from stsgas.vending import apidocs
from tests.vending.chromium import browser  # noqa: F401  (fixture)
from tests.vending.sales.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1 (a thread of this process)."""
    with serve(app) as url:
        yield url


@pytest.fixture
def offline_page(browser: Browser, base_url: str) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    """A page that may only reach the test server; the list collects what it tried elsewhere
    and the script errors it met."""
    context = browser.new_context(base_url=base_url)
    outside: list[str] = []
    ours = urlsplit(base_url).netloc

    def only_ours(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda exc: outside.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda m: (
            outside.append(m.text)
            if m.type == "error"
            and "Content Security Policy" in m.text
            and "cdn.redoc.ly" not in m.text
            else None
        ),
    )
    yield page, outside
    context.close()


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    methods = {"get", "put", "post", "patch", "delete"}
    return [(m, p) for p, item in app.openapi()["paths"].items() for m in item if m in methods]


def test_swagger_ui_shows_every_operation_offline(
    app: FastAPI, offline_page: tuple[Page, list[str]]
) -> None:
    """/api/v1/docs lists each operation of the OpenAPI document, with nothing from outside."""
    page, outside = offline_page
    ops = _operations(app)
    page.goto(apidocs.DOCS_URL)
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(ops))
    method, path = ops[0]
    expect(page.locator(f".opblock-{method} [data-path='{path}']").first).to_be_visible()
    assert outside == []


def test_redoc_shows_every_operation_offline(
    app: FastAPI, offline_page: tuple[Page, list[str]]
) -> None:
    """/api/v1/redoc renders the same operations in its menu, with nothing from outside."""
    page, outside = offline_page
    ops = _operations(app)
    page.goto(apidocs.REDOC_URL)
    expect(page.locator("li[data-item-id^='tag/'] li[data-item-id*='operation/']")).to_have_count(
        len(ops)
    )
    first = app.openapi()["paths"][ops[0][1]][ops[0][0]]["summary"]
    expect(page.get_by_role("heading", name=first).first).to_be_visible()
    assert outside == []


def test_assets_are_served_by_the_app(app: FastAPI, base_url: str) -> None:
    """The scripts the pages load come from the app, not a CDN."""
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        r = httpx.get(f"{base_url}{apidocs.ASSETS_URL}/{name}", timeout=10)
        assert r.status_code == 200
        assert len(r.content) > 10_000
