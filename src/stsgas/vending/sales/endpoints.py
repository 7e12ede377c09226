"""HTTP layer of sales: parse, authorise, run the service in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep, get_security_module
from stsgas.vending.errors import Forbidden, InvalidInput
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.params import Offset, RowId
from stsgas.vending.management import service as management
from stsgas.vending.models import Channel, Operator, PaidFrom
from stsgas.vending.operators.auth import (
    Credentials,
    CurrentOperator,
    ensure,
    principal_of,
    require,
)
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.operators.service import Principal
from stsgas.vending.printing import sale as printed
from stsgas.vending.sales import aftercare, cancel, schemas, service
from stsgas.vending.sales.request import sale_from_body
from stsgas.vending.settings import Settings

router = APIRouter(prefix="/sales", tags=["sales"])

SellingOperator = Annotated[Operator, Depends(require(Permission.SALES_CREATE))]
Canceller = Annotated[Operator, Depends(require(Permission.SALES_CANCEL))]


def _reader(operator: CurrentOperator) -> Operator:
    if not (
        allowed(operator.role, Permission.SALES_READ_ALL)
        or allowed(operator.role, Permission.SALES_READ_OWN)
    ):
        raise Forbidden(f"role {operator.role!r} may not read sales")
    return operator


Reader = Annotated[Operator, Depends(_reader)]


@router.post("", status_code=201, response_model=None)
async def create_sale(
    body: schemas.SaleIn,
    request: Request,
    credentials: Credentials,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Response:
    """Sell gas: returns the itemised receipt with the token(s) to enter, in order.

    The hot path: parsing happens on the event loop, and authentication, the
    sale and its commit run in one worker thread (one hop, one session).
    """
    req = sale_from_body(body, idempotency_key, request.app.state.settings)
    if body.paid_from != PaidFrom.FLOAT.value:
        req = replace(req, paid_from=body.paid_from)
    result = await run_in_threadpool(run_sale, request, credentials, req, _sell(req))
    return sale_response(result)


def sale_response(result: service.SaleResult) -> Response:
    """201 with the receipt's JSON as rendered once (a replay's as stored, byte for byte);
    a replayed idempotency key says so in a header."""
    return Response(
        orjson.dumps(result.body),
        status_code=201,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


#: a sale made in ``session`` by an authenticated seller, with the app's key custody
#: and rate limits: ``(session, seller, security, limits)``
SaleUnit = Callable[[Session, Principal, SecurityModule, service.SaleLimits], service.SaleResult]


def run_sale(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    req: service.SaleRequest,
    unit: SaleUnit,
) -> service.SaleResult:
    """Authenticate the seller and run ``unit`` in one transaction of one session, in
    the calling worker thread: every route that sells goes through this one hop."""
    state = request.app.state
    settings: Settings = state.settings
    security = get_security_module(request)
    limits = service.SaleLimits.configured(settings)
    with state.sessionmaker() as session:
        transaction.read_only(session)
        operator = principal_of(session, credentials)
        ensure(operator, Permission.SALES_CREATE)
        return transaction.run(
            session,
            lambda: unit(session, operator, security, limits),
            idempotent=req.idempotency_key is not None,
        )


def _sell(req: service.SaleRequest) -> SaleUnit:
    """The seller's own sale (float or wallet, as ``req.paid_from`` says)."""
    return lambda session, seller, security, limits: service.sell(
        session, req, operator=seller, security=security, limits=limits
    )


@router.get("", response_model=None)
def list_sales(
    session: SessionDep,
    operator: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Newest sales first (cashiers: only their vendor's)."""
    return aftercare.list_visible(session, operator, limit=limit, offset=offset)


@router.get("/outcome", response_model=None)
def sale_outcome(
    session: SessionDep,
    operator: Reader,
    key: Annotated[str, Query(min_length=1, max_length=255)],
    channel: Channel = Channel.API,
) -> dict[str, Any]:
    """The outcome of a sale request whose answer never arrived (a timeout).

    200 with the receipt when a sale was committed under ``(channel, key)``;
    404 ``sale_not_found`` when none was, so resending the same request with
    the same Idempotency-Key is safe (it cannot charge twice either way).
    """
    return aftercare.outcome(session, operator, channel.value, key)


@router.get("/{sale_id}", response_model=None)
def get_sale(sale_id: RowId, session: SessionDep, operator: Reader) -> dict[str, Any]:
    """A sale's receipt (cashiers: only their vendor's sales)."""
    return aftercare.body_of(aftercare.get_visible(session, sale_id, operator))


@router.get(
    "/{sale_id}/receipt.escpos",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def receipt_escpos(sale_id: RowId, session: SessionDep, operator: Reader) -> Response:
    """The sale's receipt as ESC/POS bytes, for a thermal printer to print as they are."""
    data = printed.sale_escpos(session, sale_id, operator)
    return Response(data, media_type="application/octet-stream")


@router.post("/{sale_id}/reprint", response_model=None)
def reprint(sale_id: RowId, session: SessionDep, operator: SellingOperator) -> dict[str, Any]:
    """The same token again, marked COPY; every reprint is counted and audited."""
    return transaction.run(session, lambda: aftercare.reprint(session, sale_id, operator))


@router.get("/{sale_id}/cancel-plan", response_model=None)
def cancel_plan(
    sale_id: RowId,
    session: SessionDep,
    operator: Canceller,
    token_used: bool = False,
    meter_credit: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """What cancelling would do, nothing written: the tokens, the refund, and in
    ``preview`` what the customer will see on the meter."""
    return cancel.preview(
        session, sale_id, operator, token_used=token_used, meter_credit=meter_credit
    )


@router.post("/{sale_id}/cancel", response_model=None)
def cancel_sale(
    sale_id: RowId,
    body: schemas.CancelIn,
    session: SessionDep,
    operator: Canceller,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> dict[str, Any]:
    """Cancel a sale, exactly once (a second cancel is 409 ``sale_cancelled``).

    Token never entered: void now, 200. Token entered: 202 with a pending
    management request to take the credit back; its tokens are made and the
    money moves when a second person approves it. With an ``Idempotency-Key``
    the same ask again answers the same request (``Idempotent-Replayed``).
    """
    if not body.token_used:
        return transaction.run(
            session, lambda: cancel.void(session, sale_id, operator, reason=body.reason)
        )
    if idempotency_key is not None and not idempotency_key.strip():
        raise InvalidInput("the Idempotency-Key header is empty")

    def unit() -> tuple[bool, dict[str, Any]]:
        req, replayed = cancel.ask(
            session,
            sale_id,
            operator,
            reason=body.reason,
            meter_credit=body.meter_credit,
            idempotency_key=idempotency_key,
        )
        return replayed, management.view(session, req)

    replayed, view = transaction.run(session, unit, idempotent=idempotency_key is not None)
    response.status_code = 202
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {
        "sale_id": sale_id,
        "status": "pending",
        "request": view,
        "preview": view["params"]["preview"],
    }
