"""``POST /api/v1/sales`` in front of FastAPI: the plain request goes to :mod:`.fast`.

An ASGI middleware. It answers a sale itself when the request is plain
(a JSON body of ``meter_number``, ``amount`` and optionally ``channel``, one
bearer token, at most one Idempotency-Key) and the app has a sale pool
(PostgreSQL). Anything else — a body the schema would refuse, a bad meter
number or amount, a missing token, a wallet payment — goes on to the FastAPI
route with the body replayed, so every refusal keeps the one wording, code
and order the route gives it. What the fast path answers itself (401, 403,
404, 409, 429, …) it renders with the same problem functions, and a replay
with the route's ``Idempotent-Replayed`` header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from stsgas.vending.delivery import hook as after_sale
from stsgas.vending.errors import VendingError
from stsgas.vending.kit import problems
from stsgas.vending.kit.answer import serve_before_routing
from stsgas.vending.models import Channel
from stsgas.vending.sales import fast
from stsgas.vending.sales.request import SaleRequest, parse_sale
from stsgas.vending.sales.settle import SaleLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/v1/sales"
#: a sale's body is under 200 bytes; anything far larger goes to the route's own limits
MAX_BODY = 16 * 1024
_FIELDS = frozenset({"meter_number", "amount", "channel"})
_JSON = b"application/json"


class FastSales:
    """Serve plain sales on the event loop; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        pool: fast.SalePool | None = getattr(state, "sale_pool", None)
        if pool is None or state.security_module is None:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        parsed = _parse(scope, body) if complete else None
        if parsed is None:
            await self.app(scope, _replaying(body, complete, receive), send)
            return
        req, secret = parsed
        serve_before_routing(scope, PATH)
        try:
            result = await fast.sell(
                pool,
                req,
                secret,
                security=state.security_module,
                limits=SaleLimits.configured(state.settings),
            )
        except problems.REFUSALS as exc:
            await problems.refused(exc)(scope, receive, send)
            return
        payload = orjson.dumps(result.body)
        headers = [(b"content-type", _JSON), (b"content-length", str(len(payload)).encode())]
        if result.replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        if not result.replayed:  # a new sale, committed: its token SMS (delivery)
            after_sale.hand_off(state, result.receipt)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether it is all there (False: too large, or the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives back what was read, then the rest of the stream."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> tuple[bytes | None, bool]:
    """A header's value and whether it came once (absent: None, True)."""
    found = [v for k, v in scope["headers"] if k == name]
    return (found[0] if found else None), len(found) <= 1


def _parse(scope: Scope, body: bytes) -> tuple[SaleRequest, str] | None:
    """The request and bearer secret when it is plain; None sends it down the route."""
    ctype, once = _header(scope, b"content-type")
    if not once or ctype is None or ctype.split(b";", 1)[0].strip().lower() != _JSON:
        return None
    auth, once = _header(scope, b"authorization")
    if not once or auth is None:
        return None
    scheme, _, secret = auth.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not secret or secret != secret.strip():
        return None
    raw_key, once = _header(scope, b"idempotency-key")
    if not once:
        return None
    key = None if raw_key is None else raw_key.decode("latin-1")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not doc.keys() <= _FIELDS:
        return None
    number, amount = doc.get("meter_number"), doc.get("amount")
    channel = doc.get("channel", Channel.API.value)
    if not isinstance(number, str) or not 1 <= len(number) <= 40 or not isinstance(channel, str):
        return None
    if not (isinstance(amount, str) or (type(amount) is int)):
        return None
    decimals: int = scope["app"].state.settings.currency_decimals
    try:
        req = parse_sale(
            meter_number=number,
            amount=amount,
            channel=channel,
            idempotency_key=key,
            decimals=decimals,
        )
    except VendingError:  # the route gives the same refusal, in its own words
        return None
    return req, secret
