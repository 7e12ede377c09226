"""/api/v1/customer-classes and /api/v1/customers/{id}/policy: thin endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import RowId
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.policies import schemas, service

router = APIRouter(tags=["credit policies"])
Writer = Annotated[Operator, Depends(require(Permission.CUSTOMERS_WRITE))]
Reader = Annotated[Operator, Depends(require(Permission.CUSTOMERS_READ))]


@router.post("/customer-classes", status_code=status.HTTP_201_CREATED, response_model=None)
def create_class(body: schemas.ClassIn, session: SessionDep, actor: Writer) -> dict[str, Any]:
    """Add a customer class (free basic gas per month, emergency credit limit)."""
    return transaction.run(session, lambda: service.create_class(session, body, actor))


@router.get("/customer-classes", response_model=None)
def list_classes(session: SessionDep, _reader: Reader) -> list[dict[str, Any]]:
    """Every customer class."""
    return service.classes(session)


@router.get("/customers/{customer_id}/policy", response_model=None)
def get_policy(customer_id: RowId, session: SessionDep, _reader: Reader) -> dict[str, Any]:
    """A customer's class, debt plan and emergency credit."""
    return service.view(session, customer_id)


@router.put("/customers/{customer_id}/policy", response_model=None)
def put_policy(
    customer_id: RowId, body: schemas.PolicyIn, session: SessionDep, actor: Writer
) -> dict[str, Any]:
    """Set a customer's class and debt plan (null clears either)."""
    return transaction.run(session, lambda: service.set_policy(session, customer_id, body, actor))


@router.post("/customers/{customer_id}/emergency-credit", response_model=None)
def emergency_credit(
    customer_id: RowId, body: schemas.EmergencyIn, session: SessionDep, actor: Writer
) -> dict[str, Any]:
    """The customer asks for an emergency advance: the next sale gives it."""
    return transaction.run(
        session, lambda: service.ask_emergency(session, customer_id, body, actor)
    )
