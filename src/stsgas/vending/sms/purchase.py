"""The one self-service purchase: what SMS ``BUY`` and the USSD menu's "Buy gas" both call.

It sells through the sales API (``POST /api/v1/sales`` in-process) as the SMS
operator, so a self-service sale takes the same rules, limits, receipts and
after-sale delivery as any other, and its ``Idempotency-Key`` (``sms-<message
id>``, ``ussd-<session id>``) makes a gateway's retry sell once. Where the
money comes from is decided here, once for both channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending import transaction
from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.models import Operator
from stsgas.vending.operators import service as operators
from stsgas.vending.sales.receipts import Receipt

__all__ = ["Bought", "Refused", "buy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bought:
    """The sale was made (or replayed): its receipt."""

    receipt: Receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """No sale: ``reason`` in the customer's words, ``code`` the API's problem code."""

    reason: str
    code: str


def _token_for(app: FastAPI, sm: sessionmaker[Session], username: str) -> str | None:
    """A bearer token of the SMS operator, minted once per process and reused."""
    cached: tuple[str, datetime] | None = getattr(app.state, "sms_api_token", None)
    now = datetime.now(UTC)
    if cached and cached[1] > now:
        return cached[0]

    def mint(s: Session) -> str | None:
        op = s.execute(select(Operator).where(Operator.username == username)).scalar_one_or_none()
        if op is None or not op.is_active:
            return None
        return operators.issue_token(s, op, ttl=timedelta(hours=12), name="sms-channel").secret

    secret = transaction.run_in(sm, mint)
    if secret is not None:
        app.state.sms_api_token = (secret, now + timedelta(hours=11))
    return secret


async def buy(
    app: FastAPI,
    sm: sessionmaker[Session],
    *,
    operator: str,
    meter: str,
    amount: Decimal,
    key: str,
) -> Bought | Refused:
    """Sell ``amount`` of gas to ``meter`` under idempotency key ``key``."""
    token = await to_thread.run_sync(_token_for, app, sm, operator)
    if token is None:
        return Refused(reason="SMS sales are not set up", code="not_set_up")
    try:
        body = await VendingApi(app, token).post(
            "/api/v1/sales",
            {"meter_number": meter, "amount": str(amount), "channel": "sms"},
            headers={"Idempotency-Key": key},
        )
    except ApiProblem as exc:
        if exc.code == "insufficient_float":
            return Refused(reason="the SMS wallet is empty, please buy at a vendor", code=exc.code)
        return Refused(reason=exc.detail.rstrip("."), code=exc.code)
    return Bought(receipt=Receipt.from_json(body))
