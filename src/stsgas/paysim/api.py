"""The simulator's HTTP API as one plain function: a request's parts in, an answer out.

Two faces serve it: :mod:`.server` as an ASGI app (tests run it in-process
under uvicorn) and :mod:`.wire` as a bare asyncio protocol (the simulator's
own process). Under load the simulator shares a machine with the server it
answers, so the hot answer, the transaction-status query, is made once per
transaction (when it is paid) and served as stored bytes: about a tenth of the
CPU FastAPI and uvicorn spent on it (``docs/benchmarks.md``).
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import orjson

from stsgas.paysim.ledger import Simulator, Txn

__all__ = ["Answer", "Api"]

JSON = b"application/json"
HTML = b"text/html; charset=utf-8"

_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Mobile money simulator</title></head><body>
<h1>Pay the paybill {shortcode}</h1>
<form method="post" action="/pay">
<label>Phone <input name="phone" value="254700000001" required></label>
<label>Account (meter number or customer account) <input name="account" required></label>
<label>Amount <input name="amount" inputmode="decimal" required></label>
<button type="submit">Pay</button></form>{note}</body></html>"""

#: status, content type, body
Answer = tuple[int, bytes, bytes]


def _json(status: int, body: Any) -> Answer:
    return status, JSON, orjson.dumps(body)


_NO_TOKEN = _json(401, {"errorMessage": "Invalid Access Token"})
_NO_TXN = _json(404, {"errorMessage": "Invalid TransactionID"})
_NOT_FOUND = _json(404, {"detail": "Not Found"})
_BAD_GRANT = _json(400, {"errorMessage": "Invalid grant type or credentials"})
_BAD_CREDS = _json(401, {"errorMessage": "Invalid credentials"})


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return value


def _basic(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return key, secret


@dataclass(slots=True)
class Api:
    """The endpoints over ``sim``: pay (form or JSON), OAuth token, transaction status,
    a callback's delivery state."""

    sim: Simulator
    #: each transaction's status answer, made when it is paid
    _status: dict[str, bytes] = field(default_factory=dict)

    def respond(
        self, method: str, path: str, query: str, headers: Mapping[bytes, bytes], body: bytes
    ) -> Answer:
        """The answer to one request (``headers`` keyed by lower-case names)."""
        if method == "POST" and path == "/mpesa/transactionstatus/v1/query":
            return self._status_query(headers, body)
        if method == "GET" and path == "/oauth/v1/generate":
            return self._token(headers, query)
        if method == "POST" and path == "/pay":
            return self._pay(headers, body)
        if method in ("GET", "HEAD") and path == "/":
            return 200, HTML, self._form("").encode()
        if method == "GET" and path.startswith("/transactions/"):
            return self._delivery(path.removeprefix("/transactions/"))
        return _NOT_FOUND

    def _form(self, note: str) -> str:
        return _FORM.format(shortcode=html.escape(self.sim.shortcode), note=note)

    def _status_query(self, headers: Mapping[bytes, bytes], body: bytes) -> Answer:
        auth = headers.get(b"authorization", b"")
        token = auth[7:].decode("latin-1") if auth[:7].lower() == b"bearer " else ""
        if not self.sim.token_ok(token):
            return _NO_TOKEN
        try:
            asked: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            asked = None
        trans_id = str(asked.get("TransactionID", "")) if isinstance(asked, dict) else ""
        answer = self._status.get(trans_id)
        if answer is None:
            txn = self.sim.find(trans_id)
            if txn is None:
                return _NO_TXN
            answer = self._remember(txn)
        return 200, JSON, answer

    def _remember(self, txn: Txn) -> bytes:
        answer = self._status[txn.trans_id] = orjson.dumps(
            {
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
                "Result": txn.status_result(),
            }
        )
        return answer

    def _token(self, headers: Mapping[bytes, bytes], query: str) -> Answer:
        grant = parse_qs(query).get("grant_type", [""])[0]
        creds = _basic(headers.get(b"authorization", b"").decode("latin-1"))
        if grant != "client_credentials" or creds is None:
            return _BAD_GRANT
        issued = self.sim.issue_token(*creds)
        if issued is None:
            return _BAD_CREDS
        return _json(200, {"access_token": issued, "expires_in": str(self.sim.token_ttl_s)})

    def _pay(self, headers: Mapping[bytes, bytes], body: bytes) -> Answer:
        wants_json = headers.get(b"content-type", b"").startswith(b"application/json")
        try:
            data: Any = (
                orjson.loads(body)
                if wants_json
                else dict(parse_qsl(body.decode(), keep_blank_values=True))
            )
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return _json(400, {"error": "an unreadable body"})
        if not isinstance(data, dict):
            return _json(400, {"error": "a JSON object is expected"})
        amount = _amount(str(data.get("amount", "")))
        account = str(data.get("account", "")).strip()[:20]
        phone = str(data.get("phone", "")).strip()[:20]
        if amount is None or not account or not phone:
            return _json(400, {"error": "phone, account and a positive amount"})
        # "callback": false keeps the confirmation for the caller to send (load tests)
        deliver = data.get("callback", True) not in (False, "false", "0")
        txn = self.sim.pay(phone=phone, amount=amount, account=account, deliver=deliver)
        self._remember(txn)
        if wants_json:
            return _json(
                200,
                {
                    "TransID": txn.trans_id,
                    "status": "completed",
                    "confirmation": txn.callback_body(self.sim.shortcode),
                },
            )
        note = f"<p role='status'>Paid: transaction {html.escape(txn.trans_id)}</p>"
        return 200, HTML, self._form(note).encode()

    def _delivery(self, trans_id: str) -> Answer:
        state = self.sim.deliveries.get(trans_id)
        if state is None:
            return _NO_TXN
        return _json(
            200,
            {
                "attempts": state.attempts,
                "delivered": state.delivered,
                "last_status": state.last_status,
            },
        )
