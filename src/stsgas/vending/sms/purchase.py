"""The self-service channels' operator token and purchase, shared by SMS and USSD.

Self-service sales are made through the sales API as the SMS operator
(``STSGAS_SMS_OPERATOR``); :func:`token_for` mints that operator's bearer token
once per process. :func:`buy` is what the USSD menu's "Buy gas" calls: the
very purchase SMS ``BUY`` makes (:func:`stsgas.vending.sms.buy.sell_from_wallet`),
so a change of how self-service sales are paid applies to both channels.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending import transaction
from stsgas.vending.models import Operator
from stsgas.vending.operators import service as operators
from stsgas.vending.sms.buy import Bought, Refused, sell_from_wallet

__all__ = ["Bought", "Refused", "buy", "token_for"]


def token_for(app: FastAPI, sm: sessionmaker[Session], username: str) -> str | None:
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
    channel: str = "sms",
) -> Bought | Refused:
    """Sell ``amount`` of gas to ``meter`` under idempotency key ``key``, as SMS ``BUY``
    (recorded on ``channel``: the USSD menu's sales on ``ussd``)."""
    token = await to_thread.run_sync(token_for, app, sm, operator)
    if token is None:
        return Refused(reason="SMS sales are not set up", code="not_set_up")
    return await sell_from_wallet(app, token, meter, amount, key=key, channel=channel)
