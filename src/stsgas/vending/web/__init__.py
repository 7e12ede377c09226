"""The web console (``/console``) and the mobile POS page (``/pos``).

Server-rendered Jinja2 pages with a little plain JavaScript, no build step
and nothing fetched from the network at run time. The pages are clients of
the ``/api/v1`` REST API (in-process), so every rule of the API — roles,
per-object checks, idempotency, the one transaction per sale — applies to
them unchanged. See ``docs/web.md``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from stsgas.vending.web import (
    admin_pages,
    cancel_pages,
    management_pages,
    operator_pages,
    pages,
    payments_pages,
    pos,
    sms_pages,
    supply_pages,
    tariff_pages,
    vendor_pages,
    wallet_pages,
)
from stsgas.vending.web.render import STATIC_DIR, Denied

__all__ = ["install"]


async def _denied(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Denied)
    return exc.response


def install(app: FastAPI) -> None:
    """Add the console, the POS page and their static files (once)."""
    if getattr(app.state, "web_installed", False):
        return
    app.state.web_installed = True
    app.include_router(pages.router)
    app.include_router(admin_pages.router)
    app.include_router(management_pages.router)
    app.include_router(cancel_pages.router)
    app.include_router(operator_pages.router)
    app.include_router(tariff_pages.router)
    app.include_router(vendor_pages.router)
    app.include_router(supply_pages.router)
    app.include_router(sms_pages.router)
    app.include_router(pos.router)
    app.include_router(wallet_pages.router)
    app.include_router(payments_pages.router)
    app.mount("/static/web", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.add_exception_handler(Denied, _denied)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/console", status_code=307)
