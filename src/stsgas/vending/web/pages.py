"""Console pages for selling: sign-in, today, sell gas, receipt, reprint, sales."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stsgas.vending.apiclient import ApiProblem, VendingApi, client_of
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.web import paths, repository
from stsgas.vending.web.forms import STALE_RECEIPT, signed_form
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import Me, check_csrf, clear_session, me_from, set_session
from stsgas.vending.web.views import (
    LookupView,
    lookup_view,
    money,
    parse_amount,
    receipt_view,
    sale_row,
)

router = APIRouter(prefix="/console", include_in_schema=False)
#: roles whose receipts offer "Cancel sale" (those holding sales.cancel; the API decides)
CANCELLERS = frozenset({"supervisor"})


def _safe_next(target: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console", changed: str = "") -> Response:
    """The sign-in form (after a password change, with a word that it worked)."""
    flash = (
        {"kind": "ok", "text": "Password changed; sign in with the new one."} if changed else None
    )
    return page(
        request,
        "login.html",
        None,
        "",
        title="Sign in",
        next_url=_safe_next(next),
        username="",
        error=None,
        flash=flash,
    )


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console",
) -> Response:
    """Sign in through the API's password login (its lockout applies)."""
    try:
        body = await VendingApi(request.app, None, client=client_of(request)).post(
            paths.LOGIN, {"username": username, "password": password}
        )
    except ApiProblem as exc:
        if exc.code == "password_change_required":
            return RedirectResponse(
                f"/console/password?reset=1&username={quote(username)}", status_code=303
            )
        error = "Wrong username or password."
        if exc.code == "account_locked":
            error = "This account is locked after too many failed sign-ins. Try again later."
        return page(
            request,
            "login.html",
            None,
            "",
            status_code=exc.status,
            title="Sign in",
            next_url=_safe_next(next),
            username=username,
            error=error,
        )
    me = me_from(body["access_token"], body["operator"])
    default = "/console/sell" if me.role == "cashier" else "/console"
    target = _safe_next(next) if next != "/console" else default
    response = RedirectResponse(target, status_code=303)
    expires = body.get("expires_at")
    set_session(request, response, me.token, datetime.fromisoformat(expires) if expires else None)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Sign out: revoke the token where the API allows it, drop the cookie."""
    response = RedirectResponse("/console/login", status_code=303)
    token = request.cookies.get("stsgas_console")
    if token and check_csrf(token, csrf):
        # an expired token is already as good as revoked
        with contextlib.suppress(ApiProblem):
            await VendingApi(request.app, token).request("POST", paths.LOGOUT)
    clear_session(response)
    return response


async def read_sales(request: Request, me: Me, **filters: Any) -> list[Receipt]:
    """The sales ``me`` may read (see ``web.repository``), newest first."""
    sm = request.app.state.sessionmaker

    def run() -> list[Receipt]:
        with sm() as s:
            return repository.visible_sales(s, me.id, **filters)

    return await run_in_threadpool(run)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    """Today: sales and takings (own vendor's for a cashier), float, key expiry warnings."""
    me = await guard(request, "dashboard")
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    done = [
        s
        for s in await read_sales(request, me, since=midnight, limit=5000)
        if s.status == "completed"
    ]
    nothing = Decimal(0)
    by: dict[str, list[Decimal]] = {}
    for s in done:
        by.setdefault(s.channel, []).append(s.amount_paid)
    stats: dict[str, Any] = {
        "count": len(done),
        "total": money(sum((s.amount_paid for s in done), nothing)),
        "float": None,
        "by_channel": [
            {"label": k, "count": len(v), "total": money(sum(v, nothing))}
            for k, v in sorted(by.items())
        ],
    }
    if me.vendor_id is not None:
        sm = request.app.state.sessionmaker
        vendor_id = me.vendor_id

        def float_of() -> int | None:
            with sm() as s:
                return repository.vendor_float(s, vendor_id)

        stats["float"] = money(await run_in_threadpool(float_of))
    warnings: list[str] = []
    with contextlib.suppress(ApiProblem):
        for w in await VendingApi(request.app, me.token).get(paths.KEY_WARNINGS):
            warnings.append(f"SGC {w.get('sgc')} KRN {w.get('krn')}: {w.get('message')}")
    return page(
        request,
        "dashboard.html",
        me,
        "dashboard",
        title="Today",
        today=now.date().isoformat(),
        stats=stats,
        warnings=warnings,
    )


def _sell_page(
    request: Request,
    me: Me,
    meter: str,
    lookup: LookupView | None,
    error: str | None,
    idempotency_key: str,
) -> HTMLResponse:
    """The sell form: 422 with the reason when a lookup or a sale was refused."""
    return page(
        request,
        "sell.html",
        me,
        "sell",
        title="Sell gas",
        meter=meter,
        lookup=lookup,
        error=error,
        idempotency_key=idempotency_key,
        currency=paths.CURRENCY,
        status_code=422 if error else 200,
    )


@router.get("/sell", response_class=HTMLResponse)
async def sell_form(request: Request, meter: str = "") -> Response:
    """Meter number first; the lookup is shown before any money is taken."""
    me = await guard(request, "sell")
    lookup, error = None, None
    meter = meter.replace(" ", "").replace("-", "")
    if meter:
        try:
            body = await VendingApi(request.app, me.token).get(paths.LOOKUP.format(meter=meter))
            lookup = lookup_view(body)
        except ApiProblem as exc:
            error = f"{exc.detail} Check the number on the meter label; no money has been taken."
    return _sell_page(request, me, meter, lookup, error, str(uuid.uuid4()))


@router.post("/sell")
async def sell(
    request: Request,
    meter: Annotated[str, Form()],
    amount: Annotated[str, Form()],
    idempotency_key: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Sell: one Idempotency-Key per form, so a resubmitted form sells once."""
    me = await signed_form(request, "sell", csrf, stale="The form was stale; open Sell gas again.")
    api = VendingApi(request.app, me.token)
    value = parse_amount(amount)
    error = None
    if value is None:
        error = "Enter the amount paid, e.g. 20 or 12.50."
    else:
        try:
            sale = await api.post(
                paths.SALES,
                {"meter_number": meter, "amount": str(value), "channel": "web"},
                headers={"Idempotency-Key": f"web-{idempotency_key}"},
            )
            return RedirectResponse(f"/console/sales/{sale['sale_id']}", status_code=303)
        except ApiProblem as exc:
            error = f"{exc.detail} ({exc.code})"
    lookup = None
    with contextlib.suppress(ApiProblem):
        lookup = lookup_view(await api.get(paths.LOOKUP.format(meter=meter)))
    return _sell_page(request, me, meter, lookup, error, idempotency_key)


@router.get("/sales", response_class=HTMLResponse)
async def sales(request: Request) -> Response:
    """Sales the operator may see (a cashier: its own vendor's)."""
    me = await guard(request, "sales")
    items = await read_sales(request, me, limit=200)
    title = "My sales" if me.role == "cashier" else "Sales"
    return page(request, "sales.html", me, "sales", title=title, sales=[sale_row(s) for s in items])


def receipt_page(
    request: Request,
    me: Me,
    sale_id: int,
    sale: dict[str, Any],
    *,
    copy: bool = False,
    title: str = "",
    buttons: bool = True,
    flash: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """A sale's receipt page (``sale`` as the API gives it), with the reprint and cancel
    buttons the operator's role allows; ``buttons=False``: none (after a cancellation)."""
    return page(
        request,
        "receipt.html",
        me,
        "sales",
        status_code=status_code,
        title=title or f"Receipt #{sale_id}",
        receipt=receipt_view(Receipt.from_json(sale), copy=copy),
        can_reprint=buttons and me.role != "auditor",
        can_cancel=buttons and me.role in CANCELLERS,
        flash=flash,
    )


@router.get("/sales/{sale_id}", response_class=HTMLResponse)
async def receipt(request: Request, sale_id: int, copy: bool = False) -> Response:
    """The itemised receipt with the token(s), key change tokens first."""
    me = await guard(request, "sales")
    try:
        sale = await VendingApi(request.app, me.token).get(paths.SALE.format(id=sale_id))
    except ApiProblem as exc:
        return error_page(request, me, "sales", "Sale not shown", exc)
    return receipt_page(request, me, sale_id, sale, copy=copy)


@router.post("/sales/{sale_id}/reprint", response_class=HTMLResponse)
async def reprint(request: Request, sale_id: int, csrf: Annotated[str, Form()] = "") -> Response:
    """The same token again, marked COPY (the API counts reprints)."""
    me = await signed_form(request, "sell", csrf, active="sales", stale=STALE_RECEIPT)
    try:
        sale = await VendingApi(request.app, me.token).post(paths.REPRINT.format(id=sale_id), {})
    except ApiProblem as exc:
        return error_page(request, me, "sales", "Reprint refused", exc)
    sale = sale.get("sale", sale)
    return receipt_page(request, me, sale_id, sale, copy=True, title=f"Receipt #{sale_id} (copy)")
