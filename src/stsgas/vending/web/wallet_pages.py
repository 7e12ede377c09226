"""The wallet panel of a customer's console page: balance, history, pay in, buy.

Everything goes through the API (``/api/v1/customers/{id}/wallet``). Each form
carries a fresh random Idempotency-Key, so a double click or a resent form
pays in or sells once.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import check_csrf
from stsgas.vending.web.views import money

router = APIRouter(prefix="/console", include_in_schema=False)

_WALLET = "/api/v1/customers/{id}/wallet"


async def wallet_panel(api: VendingApi, customer_id: int) -> dict[str, Any] | None:
    """The wallet's balance and latest movements for the page (None: not readable)."""
    try:
        body = await api.get(_WALLET.format(id=customer_id), limit=50)
    except ApiProblem:
        return None
    return {
        "balance": money(int(body["balance"])),
        "moves": [
            {
                "at": str(m["at"])[:19].replace("T", " "),
                "amount": money(int(m["amount"])),
                "balance": money(int(m["balance"])),
                "sale_id": m["sale_id"],
                "memo": m["memo"],
            }
            for m in body["moves"]
        ],
        "key": secrets.token_urlsafe(12),
    }


def _stale(request: Request, me: Any) -> Response:
    return page(
        request,
        "error.html",
        me,
        "customers",
        status_code=403,
        title="Form expired",
        detail="The form was stale; open the page again.",
    )


@router.post("/customers/{customer_id}/wallet/topups")
async def top_up(
    request: Request,
    customer_id: int,
    amount: Annotated[str, Form()],
    key: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Pay money in at the counter, then show the customer again."""
    me = await guard(request, "customers")
    if not check_csrf(me.token, csrf):
        return _stale(request, me)
    try:
        await VendingApi(request.app, me.token).post(
            _WALLET.format(id=customer_id) + "/topups",
            {"amount": amount},
            headers={"Idempotency-Key": f"console-{key}"[:64]},
        )
    except ApiProblem as exc:
        return error_page(request, me, "customers", "Nothing paid in", exc)
    return RedirectResponse(f"/console/customers/{customer_id}#wallet", status_code=303)


@router.post("/customers/{customer_id}/wallet/purchases")
async def purchase(
    request: Request,
    customer_id: int,
    meter_number: Annotated[str, Form()],
    amount: Annotated[str, Form()],
    key: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Sell gas paid from the wallet, then show the receipt."""
    me = await guard(request, "customers")
    if not check_csrf(me.token, csrf):
        return _stale(request, me)
    try:
        sale = await VendingApi(request.app, me.token).post(
            _WALLET.format(id=customer_id) + "/purchases",
            {"meter_number": meter_number, "amount": amount, "channel": "web"},
            headers={"Idempotency-Key": f"console-wallet-{key}"},
        )
    except ApiProblem as exc:
        return error_page(request, me, "customers", "Nothing sold", exc)
    return RedirectResponse(f"/console/sales/{sale['sale_id']}", status_code=303)
