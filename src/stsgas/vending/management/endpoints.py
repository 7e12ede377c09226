"""HTTP layer of management tokens: supervisor/admin only, four-eyes approval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from stsgas.vending import transaction
from stsgas.vending.deps import SecurityModuleDep, SessionDep
from stsgas.vending.errors import InvalidInput, SegregatedDuty
from stsgas.vending.kit.params import RowId
from stsgas.vending.management import schemas, service, views
from stsgas.vending.models import Operator, RequestStatus, Role
from stsgas.vending.operators.auth import CurrentOperator, ensure
from stsgas.vending.operators.permissions import Permission

router = APIRouter(prefix="/management", tags=["management"])


def _duty(permission: Permission) -> Callable[[Operator], Operator]:
    """Like ``require``, but an admin is told why: administering accounts and
    asking for or approving tokens are separate duties (403 ``segregated_duty``)."""

    def check(operator: CurrentOperator) -> Operator:
        if operator.role == Role.ADMIN.value:
            raise SegregatedDuty("people who administer accounts do not ask for or approve tokens")
        ensure(operator, permission)
        return operator

    return check


Asker = Annotated[Operator, Depends(_duty(Permission.MGMT_REQUEST))]
Approver = Annotated[Operator, Depends(_duty(Permission.MGMT_APPROVE))]


REPLAYED = {"Idempotent-Replayed": "true"}


@router.post("/requests", status_code=201, response_model=None)
def ask(
    body: schemas.ManagementIn,
    session: SessionDep,
    security: SecurityModuleDep,
    operator: Asker,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> dict[str, Any]:
    """Ask for a management token (pending until another operator approves).

    With an ``Idempotency-Key`` (per operator), a retry returns the same request
    with ``Idempotent-Replayed: true``; the key with other data is 422
    ``idempotency_mismatch``.
    """
    if idempotency_key is not None and not idempotency_key.strip():
        raise InvalidInput("the Idempotency-Key header is empty")

    def unit() -> tuple[bool, dict[str, Any]]:
        asked = service.ask(
            session,
            operator=operator,
            meter_number=body.meter_number,
            kind=body.kind,
            params=dict(body.params),
            reason=body.reason,
            idempotency_key=idempotency_key,
            security=security,
        )
        return asked.replayed, views.view(session, asked.request)

    replayed, view = transaction.run(session, unit, idempotent=idempotency_key is not None)
    if replayed:
        response.headers.update(REPLAYED)
    return view


@router.get("/requests", response_model=None)
def listing(
    session: SessionDep,
    _operator: Asker,
    status: RequestStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Requests newest first, e.g. ``?status=pending``: what waits for a second person."""
    return views.listing(session, status=None if status is None else status.value, limit=limit)


@router.get("/requests/{request_id}", response_model=None)
def get(request_id: RowId, session: SessionDep, _operator: Asker) -> dict[str, Any]:
    """A request and, once issued, its tokens."""
    return views.get(session, request_id)


@router.post("/requests/{request_id}/approve", response_model=None)
def approve(
    request_id: RowId,
    session: SessionDep,
    security: SecurityModuleDep,
    operator: Approver,
    response: Response,
) -> dict[str, Any]:
    """Approve (a second person) and issue the token(s). The same approver
    approving again gets the same tokens (``Idempotent-Replayed: true``)."""
    decided = transaction.run(
        session, lambda: service.approve(session, request_id, operator, security=security)
    )
    return _answer(decided, response)


@router.post("/requests/{request_id}/reject", response_model=None)
def reject(
    request_id: RowId,
    body: schemas.DecisionIn,
    session: SessionDep,
    operator: Approver,
    response: Response,
) -> dict[str, Any]:
    """Refuse a pending request (the same operator rejecting again gets it back)."""
    decided = transaction.run(
        session, lambda: service.reject(session, request_id, operator, body.reason)
    )
    return _answer(decided, response)


def _answer(decided: service.Decided, response: Response) -> dict[str, Any]:
    if decided.replayed:
        response.headers.update(REPLAYED)
    return decided.view
