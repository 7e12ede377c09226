"""The simulator's HTTP face: pay (form or JSON), OAuth token, transaction status."""

from __future__ import annotations

import base64
import binascii
import html
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from stsgas.paysim.ledger import Simulator

__all__ = ["build"]

_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Mobile money simulator</title></head><body>
<h1>Pay the paybill {shortcode}</h1>
<form method="post" action="/pay">
<label>Phone <input name="phone" value="254700000001" required></label>
<label>Account (meter number or customer account) <input name="account" required></label>
<label>Amount <input name="amount" inputmode="decimal" required></label>
<button type="submit">Pay</button></form>{note}</body></html>"""


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return key, secret


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else ""


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return value


def build(sim: Simulator) -> FastAPI:
    """The simulator's app over ``sim``."""
    app = FastAPI(title="mobile money simulator", docs_url=None, redoc_url=None)

    @app.get("/", response_class=HTMLResponse)
    def form() -> str:
        return _FORM.format(shortcode=html.escape(sim.shortcode), note="")

    @app.post("/pay")
    async def pay(request: Request) -> Response:
        wants_json = request.headers.get("content-type", "").startswith("application/json")
        data: Any = await request.json() if wants_json else dict(await request.form())
        if not isinstance(data, dict):
            return JSONResponse({"error": "a JSON object is expected"}, status_code=400)
        amount = _amount(str(data.get("amount", "")))
        account = str(data.get("account", "")).strip()[:20]
        phone = str(data.get("phone", "")).strip()[:20]
        if amount is None or not account or not phone:
            return JSONResponse({"error": "phone, account and a positive amount"}, 400)
        # "callback": false keeps the confirmation for the caller to send (load tests)
        deliver = data.get("callback", True) not in (False, "false", "0")
        txn = sim.pay(phone=phone, amount=amount, account=account, deliver=deliver)
        if wants_json:
            return JSONResponse(
                {
                    "TransID": txn.trans_id,
                    "status": "completed",
                    "confirmation": txn.callback_body(sim.shortcode),
                }
            )
        note = f"<p role='status'>Paid: transaction {html.escape(txn.trans_id)}</p>"
        return HTMLResponse(_FORM.format(shortcode=html.escape(sim.shortcode), note=note))

    @app.get("/oauth/v1/generate")
    def token(request: Request, grant_type: str = "") -> Response:
        creds = _basic(request)
        if grant_type != "client_credentials" or creds is None:
            return JSONResponse({"errorMessage": "Invalid grant type or credentials"}, 400)
        issued = sim.issue_token(*creds)
        if issued is None:
            return JSONResponse({"errorMessage": "Invalid credentials"}, 401)
        return JSONResponse({"access_token": issued, "expires_in": str(sim.token_ttl_s)})

    @app.post("/mpesa/transactionstatus/v1/query")
    async def status(request: Request) -> Response:
        if not sim.token_ok(_bearer(request)):
            return JSONResponse({"errorMessage": "Invalid Access Token"}, 401)
        body: Any = await request.json()
        txn = sim.find(str(body.get("TransactionID", ""))) if isinstance(body, dict) else None
        if txn is None:
            return JSONResponse({"errorMessage": "Invalid TransactionID"}, 404)
        return JSONResponse(
            {
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
                "Result": txn.status_result(),
            }
        )

    @app.get("/transactions/{trans_id}")
    def delivery(trans_id: str) -> Response:
        state = sim.deliveries.get(trans_id)
        if state is None:
            return JSONResponse({"errorMessage": "Invalid TransactionID"}, 404)
        return JSONResponse(
            {
                "attempts": state.attempts,
                "delivered": state.delivered,
                "last_status": state.last_status,
            }
        )

    return app
