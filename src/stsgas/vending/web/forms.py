"""The one way a console form is posted: sign-in guard, CSRF check, one API call.

Every state-changing console form does the same: the operator must be allowed on
the page, the form's CSRF value must be this session's (else a 403 "Form expired"
page), then the API is called; a refusal shows the API's problem on an error
page, success redirects (303) to the page to see next. Forms that answer
differently after the call still share :func:`signed_form`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.render import Denied, error_page, guard, page
from stsgas.vending.web.session import Me, check_csrf

__all__ = ["STALE_PAGE", "STALE_RECEIPT", "form_expired", "signed_form", "submit"]

#: what a stale form says, by where it came from
STALE_PAGE = "The form was stale; open the page again."
STALE_RECEIPT = "The form was stale; open the receipt again."


def form_expired(request: Request, me: Me, active: str, detail: str = STALE_PAGE) -> Response:
    """403 for a form whose CSRF value is not this session's (an old tab, a forgery)."""
    return page(
        request,
        "error.html",
        me,
        active,
        status_code=403,
        title="Form expired",
        detail=detail,
    )


async def signed_form(
    request: Request,
    page_key: str,
    csrf: str,
    *,
    active: str | None = None,
    stale: str = STALE_PAGE,
) -> Me:
    """The signed-in operator allowed on ``page_key`` who sent this form; a stale
    form raises :class:`Denied` with the "Form expired" page (menu item ``active``,
    ``page_key`` unless given)."""
    me = await guard(request, page_key)
    if not check_csrf(me.token, csrf):
        raise Denied(form_expired(request, me, active or page_key, stale))
    return me


async def submit(
    request: Request,
    page_key: str,
    csrf: str,
    call: Callable[[VendingApi], Awaitable[Any]],
    *,
    refused: str,
    then: str | Callable[[Any], str],
    active: str | None = None,
    stale: str = STALE_PAGE,
) -> Response:
    """Post a form: check it (:func:`signed_form`), make the API ``call``; a refusal
    shows the error page titled ``refused``, success redirects to ``then`` (a URL, or
    one made from the call's answer)."""
    me = await signed_form(request, page_key, csrf, active=active, stale=stale)
    try:
        answer = await call(VendingApi(request.app, me.token))
    except ApiProblem as exc:
        return error_page(request, me, active or page_key, refused, exc)
    target = then if isinstance(then, str) else then(answer)
    return RedirectResponse(target, status_code=303)
