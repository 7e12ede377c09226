"""``/api/v1/customers/{id}/wallet``: a customer's wallet, its top-ups and purchases.

* ``GET`` the balance and its movements, newest first, with the balance after
  each (customer readers);
* ``POST …/topups`` money paid in at the counter (admins, as vendor float
  top-ups); the Idempotency-Key is required and becomes the payment's id, so a
  retry credits nothing twice;
* ``POST …/purchases`` gas for one of the customer's meters, paid from the
  wallet (sellers); the same sale, receipt and Idempotency-Key replay as
  ``POST /api/v1/sales`` (which takes ``paid_from: "wallet"`` too).

Amounts in answers are minor units (integers), as in the float history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import InvalidInput
from stsgas.vending.kit.money import AmountIn, PositiveAmount
from stsgas.vending.kit.params import MAX_ROW_ID, RowId
from stsgas.vending.ledger.schemas import MoveOut
from stsgas.vending.models import Channel, Operator
from stsgas.vending.operators.auth import Credentials, require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.sales import service as sales
from stsgas.vending.sales.endpoints import SaleUnit, run_sale, sale_response
from stsgas.vending.sales.request import sale_from_body
from stsgas.vending.wallet import service

router = APIRouter(prefix="/customers", tags=["customers"])

Reader = Annotated[Operator, Depends(require(Permission.CUSTOMERS_READ))]
Cashier = Annotated[Operator, Depends(require(Permission.VENDORS_MANAGE))]


class WalletOut(BaseModel):
    """A wallet: its balance (minor units) and latest movements, newest first."""

    customer_id: int
    balance: int
    moves: list[MoveOut]


class TopUpIn(BaseModel):
    """Money paid in at the counter (major units, e.g. "25.00")."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveAmount


class TopUpOut(BaseModel):
    """The top-up's payment and the wallet's balance after it (minor units)."""

    payment_id: int
    amount: int
    balance: int


class PurchaseIn(BaseModel):
    """Gas for one of the customer's meters, paid from the wallet."""

    model_config = ConfigDict(extra="forbid")

    meter_number: str = Field(min_length=1, max_length=40)
    amount: AmountIn
    channel: Channel = Channel.WEB


@router.get("/{customer_id}/wallet", response_model=WalletOut)
def get_wallet(
    customer_id: RowId,
    session: SessionDep,
    _reader: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> WalletOut:
    """The balance and movements; page on with ``before_id`` = the last ``id`` shown."""
    view = service.view(session, customer_id, limit=limit, before_id=before_id)
    return WalletOut(
        customer_id=view.customer_id,
        balance=view.balance,
        moves=[MoveOut.model_validate(m) for m in view.moves],
    )


@router.post("/{customer_id}/wallet/topups", status_code=201, response_model=TopUpOut)
def top_up(
    customer_id: RowId,
    body: TopUpIn,
    session: SessionDep,
    _actor: Cashier,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> TopUpOut:
    """Credit money paid in at the counter, once per Idempotency-Key (required)."""
    if idempotency_key is None or not idempotency_key.strip():
        raise InvalidInput("a wallet top-up needs an Idempotency-Key header")
    now = datetime.now(UTC)
    done = transaction.run(
        session,
        lambda: service.counter_top_up(
            session, customer_id, body.amount, key=idempotency_key, now=now
        ),
        idempotent=True,
    )
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return TopUpOut(payment_id=done.payment_id, amount=done.amount, balance=done.balance)


@router.post("/{customer_id}/wallet/purchases", status_code=201, response_model=None)
async def purchase(
    customer_id: RowId,
    body: PurchaseIn,
    request: Request,
    credentials: Credentials,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Response:
    """Sell gas paid from the wallet: the receipt, as ``POST /api/v1/sales`` answers it."""
    req = sale_from_body(body, idempotency_key, request.app.state.settings)
    result = await run_in_threadpool(run_sale, request, credentials, req, _buy(customer_id, req))
    return sale_response(result)


def _buy(customer_id: int, req: sales.SaleRequest) -> SaleUnit:
    """The sale paid from the customer's wallet."""
    return lambda session, seller, security, limits: service.purchase(
        session,
        customer_id,
        req,
        operator=seller,
        security=security,
        now=datetime.now(UTC),
        limits=limits,
    )
