"""Templates and the small helpers every page shares (sign-in guard, rendering)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from stsgas.vending.apiclient import ApiProblem
from stsgas.vending.web.nav import NavItem, allowed, nav_for
from stsgas.vending.web.session import Me, csrf_for, load_me

__all__ = ["STATIC_DIR", "Denied", "error_page", "guard", "page", "templates"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["static"] = lambda name: f"/static/web/{name}"


#: every page: no caching of tokens, no framing, scripts and styles only from here
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class Denied(Exception):
    """The page cannot be shown; ``response`` says why (login redirect or 403 page)."""

    def __init__(self, response: Response) -> None:
        super().__init__("denied")
        self.response = response


async def guard(request: Request, page_key: str) -> Me:
    """The signed-in operator allowed to open ``page_key``; else raise :class:`Denied`."""
    me = await load_me(request)
    if me is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise Denied(RedirectResponse(f"/console/login?next={target}", status_code=303))
    if not allowed(page_key, me.role):
        raise Denied(
            page(
                request,
                "error.html",
                me,
                page_key,
                status_code=403,
                title="Not allowed",
                detail=f"A {me.role} cannot open this page.",
            )
        )
    return me


def _nav(request: Request, me: Me | None) -> list[NavItem]:
    """The role's menu, and the virtual meter page when one is configured (a URL only)."""
    if me is None:
        return []
    items = nav_for(me.role)
    url = request.app.state.settings.meter_page_url
    if url:
        items.append(NavItem(key="meter_page", href=url, label="Virtual meter"))
    return items


def page(
    request: Request,
    template: str,
    me: Me | None,
    active: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the layout's context (menu, CSRF value, operator)."""
    context.setdefault("title", "stsgas")
    context.setdefault("flash", None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "me": me,
            "nav": _nav(request, me),
            "active": active,
            "csrf": csrf_for(me.token) if me else "",
            **context,
        },
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )


def error_page(
    request: Request, me: Me | None, active: str, title: str, problem: ApiProblem
) -> HTMLResponse:
    """The error page for a refused API call: its status, a page title, its detail."""
    return page(
        request,
        "error.html",
        me,
        active,
        status_code=problem.status,
        title=title,
        detail=problem.detail,
    )
