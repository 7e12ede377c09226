"""``BUY``: gas for the customer's meter, paid from the customer's wallet.

The one purchase of the self-service channels: :func:`sell_from_wallet` posts
to the sales API with ``paid_from: "wallet"`` and the caller's
Idempotency-Key, so a gateway retry sells once, and answers the receipt or why
nothing was sold (no money is taken then). SMS ``BUY`` answers its reply text
through :func:`buy_from_wallet`; the USSD menu draws its screens from the same
answer (through :func:`stsgas.vending.sms.purchase.buy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.kit.money import currency_decimals, to_major
from stsgas.vending.meters import resolve
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.replies import Purchase, buy_reply, credited_text, refused_reply
from stsgas.vending.wallet import repository as wallets

__all__ = ["Bought", "Refused", "buy_from_wallet", "sell_from_wallet", "wallet_left"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bought:
    """The sale was made (or replayed): its receipt."""

    receipt: Receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """No sale: ``reason`` in the customer's words, ``code`` the API's problem code."""

    reason: str
    code: str


def wallet_left(sm: sessionmaker[Session], meter: str) -> Decimal | None:
    """What the wallet of the meter's customer holds now (major units), or None."""
    with sm() as s:
        found = resolve.find(s, meter)
        owner = None if found is None else MeterRepository(s).customer_of(found.id)
        minor = None if owner is None else wallets.balance(s, owner.id)
    return None if minor is None else to_major(minor, currency_decimals.get())


async def sell_from_wallet(
    app: FastAPI, token: str, meter: str, amount: Decimal, *, key: str, channel: str = "sms"
) -> Bought | Refused:
    """Sell ``amount`` of gas to ``meter`` from its customer's wallet (as the channel's
    operator, bearer ``token``), once per ``key``."""
    try:
        body = await VendingApi(app, token).post(
            "/api/v1/sales",
            {
                "meter_number": meter,
                "amount": str(amount),
                "channel": channel,
                "paid_from": "wallet",
            },
            headers={"Idempotency-Key": key},
        )
    except ApiProblem as exc:
        if exc.code == "insufficient_wallet":
            return Refused(
                reason="your wallet balance is too low, please top it up first", code=exc.code
            )
        return Refused(reason=exc.detail.rstrip("."), code=exc.code)
    return Bought(receipt=Receipt.from_json(body))


async def buy_from_wallet(
    app: FastAPI, token: str, meter: str, amount: Decimal, *, key: str, channel: str = "sms"
) -> str:
    """:func:`sell_from_wallet`, answered as the SMS reply text."""
    done = await sell_from_wallet(app, token, meter, amount, key=key, channel=channel)
    if isinstance(done, Refused):
        return refused_reply(done.reason)
    receipt = done.receipt
    left = await to_thread.run_sync(wallet_left, app.state.sessionmaker, meter)
    return buy_reply(
        meter,
        Purchase(
            paid=receipt.amount_paid,
            credited=credited_text(receipt),
            tokens=[t.digits for t in receipt.tokens],
            key_change=receipt.key_change,
            wallet_left=left,
        ),
    )
