"""HTTP layer of management tokens: supervisor/admin only, four-eyes approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from stsgas.vending.deps import SecurityModuleDep, SessionDep
from stsgas.vending.management import schemas, service
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.sales import transaction

router = APIRouter(prefix="/management", tags=["management"])

Asker = Annotated[Operator, Depends(require(Permission.MGMT_REQUEST))]
Approver = Annotated[Operator, Depends(require(Permission.MGMT_APPROVE))]


@router.post("/requests", status_code=201, response_model=None)
def ask(body: schemas.ManagementIn, session: SessionDep, operator: Asker) -> dict[str, Any]:
    """Ask for a management token (pending until another operator approves)."""
    return transaction.run(session, lambda: service.view(session, service.ask(
        session, operator=operator, meter_number=body.meter_number, kind=body.kind,
        params=dict(body.params), reason=body.reason,
    )))


@router.get("/requests/{request_id}", response_model=None)
def get(request_id: int, session: SessionDep, _operator: Asker) -> dict[str, Any]:
    """A request and, once issued, its tokens."""
    return service.get(session, request_id)


@router.post("/requests/{request_id}/approve", response_model=None)
def approve(
    request_id: int, session: SessionDep, security: SecurityModuleDep, operator: Approver
) -> dict[str, Any]:
    """Approve (a second person) and issue the token(s)."""
    return transaction.run(
        session, lambda: service.approve(session, request_id, operator, security=security)
    )


@router.post("/requests/{request_id}/reject", response_model=None)
def reject(
    request_id: int, body: schemas.DecisionIn, session: SessionDep, operator: Approver
) -> dict[str, Any]:
    """Refuse a pending request."""
    return transaction.run(
        session, lambda: service.reject(session, request_id, operator, body.reason)
    )
