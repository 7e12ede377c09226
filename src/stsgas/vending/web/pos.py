"""The mobile POS page and its JSON calls (session, float, lookup, sell, receipt bytes).

The page's script sends an ``Idempotency-Key`` it generated for the sale
attempt and reuses on retry; it is passed to the sales API unchanged (with a
``pos-`` prefix), so a double tap, a retried call or a sale queued on the
device with no network and sent later returns the same sale. Offline, the page
checks a sale against the float it last read here less what it has queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.logs import current_request_id
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.web import paths
from stsgas.vending.web.nav import allowed
from stsgas.vending.web.render import guard, page
from stsgas.vending.web.session import Me, check_csrf, csrf_for, load_me
from stsgas.vending.web.views import lookup_view, parse_amount, receipt_view

router = APIRouter(include_in_schema=False)


class SellIn(BaseModel):
    """What the POS page posts."""

    meter: str = Field(pattern=r"^[0-9]{11,18}$")
    amount: str = Field(max_length=16)


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "detail": detail, "request_id": current_request_id()},
        status_code=status,
        media_type="application/problem+json",
    )


async def _pos_operator(request: Request, csrf: str | None) -> Me | JSONResponse:
    me = await load_me(request)
    if me is None:
        return _problem(401, "not_authenticated", "Signed out: sign in again.")
    if not allowed("pos", me.role):
        return _problem(403, "forbidden", f"A {me.role} cannot sell.")
    if not check_csrf(me.token, csrf):
        return _problem(403, "csrf", "The page is stale: reload it.")
    return me


@router.get("/pos", response_class=HTMLResponse)
async def pos_page(request: Request) -> Response:
    """The one-page POS for a phone."""
    me = await guard(request, "pos")
    return page(request, "pos.html", me, "pos", title="POS", currency=paths.CURRENCY)


@router.get("/pos/api/lookup")
async def pos_lookup(
    request: Request, meter: str, x_csrf_token: str | None = Header(default=None)
) -> Response:
    """The meter facts to confirm before taking money."""
    me = await _pos_operator(request, x_csrf_token)
    if isinstance(me, JSONResponse):
        return me
    try:
        body = await VendingApi(request.app, me.token).get(paths.LOOKUP.format(meter=meter))
    except ApiProblem as exc:
        return _problem(exc.status, exc.code, f"{exc.detail} No money has been taken.")
    view = lookup_view(body)
    return JSONResponse(
        {
            "meter": view.meter,
            "customer": view.customer,
            "mode": view.mode,
            "mode_label": view.mode_label,
            "status": view.status,
            "last_sale": view.last_sale,
            "key_change": view.key_change,
            "can_sell": view.can_sell,
            "warnings": list(view.warnings),
            "cannot_sell": [{"code": c, "detail": d} for c, d in view.cannot_sell],
        }
    )


@router.post("/pos/api/sell")
async def pos_sell(
    request: Request,
    body: SellIn,
    idempotency_key: str = Header(alias="Idempotency-Key", min_length=8, max_length=64),
    x_csrf_token: str | None = Header(default=None),
) -> Response:
    """Sell once per Idempotency-Key; answer the receipt with grouped tokens."""
    me = await _pos_operator(request, x_csrf_token)
    if isinstance(me, JSONResponse):
        return me
    amount = parse_amount(body.amount)
    if amount is None:
        return _problem(422, "bad_amount", "Enter the amount paid, e.g. 20 or 12.50.")
    try:
        sale = await VendingApi(request.app, me.token).post(
            paths.SALES,
            {"meter_number": body.meter, "amount": str(amount), "channel": "pos"},
            headers={"Idempotency-Key": f"pos-{idempotency_key}"},
        )
    except ApiProblem as exc:
        return _problem(exc.status, exc.code, exc.detail)
    view = receipt_view(Receipt.from_json(sale))
    out: dict[str, Any] = {
        "sale_id": view.sale_id,
        "meter": view.meter,
        "paid": view.paid,
        "credited": view.credited,
        "split": view.split,
        "key_change": view.key_change,
        "tokens": [
            {"label": t.label, "digits": t.digits, "grouped": t.grouped} for t in view.tokens
        ],
    }
    return JSONResponse(out)


@router.get("/pos/api/session")
async def pos_session(request: Request) -> Response:
    """Who is signed in and the CSRF value to send: the queue sends with the session of
    now, not of when the page was cached (a page opened offline may be older)."""
    me = await load_me(request)
    if me is None:
        return _problem(401, "not_authenticated", "Signed out: sign in again.")
    return JSONResponse(
        {"username": me.username, "csrf": csrf_for(me.token)}, headers={"Cache-Control": "no-store"}
    )


@router.get("/pos/api/float")
async def pos_float(request: Request, x_csrf_token: str | None = Header(default=None)) -> Response:
    """The vendor float in minor units (None: this operator sells from no float), and
    the currency's decimals, so the page can check offline sales against it."""
    me = await _pos_operator(request, x_csrf_token)
    if isinstance(me, JSONResponse):
        return me
    decimals = request.app.state.settings.currency_decimals
    if me.vendor_id is None:
        return JSONResponse({"float_minor": None, "decimals": decimals})
    try:
        vendor = await VendingApi(request.app, me.token).get(paths.VENDOR.format(id=me.vendor_id))
    except ApiProblem as exc:
        return _problem(exc.status, exc.code, exc.detail)
    return JSONResponse(
        {"float_minor": int(vendor["float_balance"]), "decimals": decimals},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/pos/api/sales/{sale_id}/receipt.escpos")
async def pos_receipt_escpos(
    request: Request, sale_id: int, x_csrf_token: str | None = Header(default=None)
) -> Response:
    """The sale's receipt as ESC/POS bytes (the API's, with its per-object check), for
    the page to write to a Bluetooth printer."""
    me = await _pos_operator(request, x_csrf_token)
    if isinstance(me, JSONResponse):
        return me
    try:
        answer = await VendingApi(request.app, me.token).request(
            "GET", paths.RECEIPT_ESCPOS.format(id=sale_id)
        )
    except ApiProblem as exc:
        return _problem(exc.status, exc.code, exc.detail)
    return Response(answer.content, media_type="application/octet-stream")
