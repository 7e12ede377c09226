"""The wallet panel of a customer's console page: balance, history, pay in, buy.

Everything goes through the API (``/api/v1/customers/{id}/wallet``). Each form
carries a fresh random Idempotency-Key, so a double click or a resent form
pays in or sells once.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.forms import submit
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


@router.post("/customers/{customer_id}/wallet/topups")
async def top_up(
    request: Request,
    customer_id: int,
    amount: Annotated[str, Form()],
    key: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Pay money in at the counter, then show the customer again."""
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.post(
            _WALLET.format(id=customer_id) + "/topups",
            {"amount": amount},
            headers={"Idempotency-Key": f"console-{key}"[:64]},
        ),
        refused="Nothing paid in",
        then=f"/console/customers/{customer_id}#wallet",
    )


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
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.post(
            _WALLET.format(id=customer_id) + "/purchases",
            {"meter_number": meter_number, "amount": amount, "channel": "web"},
            headers={"Idempotency-Key": f"console-wallet-{key}"},
        ),
        refused="Nothing sold",
        then=lambda sale: f"/console/sales/{sale['sale_id']}",
    )
