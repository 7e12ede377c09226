"""/api/v1/customers: thin endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from stsgas.vending import transaction
from stsgas.vending.customers import service
from stsgas.vending.customers.repository import CustomerRepository
from stsgas.vending.customers.schemas import (
    CustomerIn,
    CustomerMaskedOut,
    CustomerOut,
    CustomerPatch,
)
from stsgas.vending.delivery import hook as after_sale
from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import Forbidden
from stsgas.vending.kit.params import Offset, RowId
from stsgas.vending.models import Customer, Operator
from stsgas.vending.operators.auth import CurrentOperator, require
from stsgas.vending.operators.permissions import Permission, allowed

router = APIRouter(prefix="/customers", tags=["customers"])
Writer = Annotated[Operator, Depends(require(Permission.CUSTOMERS_WRITE))]

CustomerView = CustomerOut | CustomerMaskedOut


def _viewer(operator: CurrentOperator) -> Operator:
    """Readers (supervisors and up, auditors) or lookers-up (cashiers: masked), else 403."""
    if not (
        allowed(operator.role, Permission.CUSTOMERS_READ)
        or allowed(operator.role, Permission.CUSTOMERS_LOOKUP)
    ):
        raise Forbidden(f"role {operator.role!r} may not {Permission.CUSTOMERS_LOOKUP.value}")
    return operator


Viewer = Annotated[Operator, Depends(_viewer)]


def _shown(customer: Customer, viewer: Operator) -> CustomerView:
    """The full record for readers; the masked one for a cashier."""
    if allowed(viewer.role, Permission.CUSTOMERS_READ):
        return CustomerOut.model_validate(customer)
    return CustomerMaskedOut(
        id=customer.id,
        name=service.mask_name(customer.name),
        phone=service.mask_phone(customer.phone),
    )


@router.post("", response_model=CustomerOut, status_code=status.HTTP_201_CREATED)
def create(body: CustomerIn, session: SessionDep, actor: Writer, request: Request) -> CustomerOut:
    """Add a customer."""
    out = transaction.run(
        session,
        lambda: CustomerOut.model_validate(
            service.create(session, actor=actor, **body.model_dump())
        ),
    )
    if out.sms_tokens:
        after_sale.opted_in(request.app.state)
    return out


@router.get("", response_model=list[CustomerView])
def search(
    session: SessionDep,
    viewer: Viewer,
    response: Response,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> list[CustomerView]:
    """Customers whose name or phone contains ``q``; the total is in X-Total-Count.
    A cashier gets the masked view of each."""
    rows, total = CustomerRepository(session).search(q, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [_shown(c, viewer) for c in rows]


@router.get("/{customer_id}", response_model=CustomerView)
def get(customer_id: RowId, session: SessionDep, viewer: Viewer) -> CustomerView:
    """One customer (masked for a cashier)."""
    return _shown(service.get(session, customer_id), viewer)


@router.patch("/{customer_id}", response_model=CustomerOut)
def update(
    customer_id: RowId, body: CustomerPatch, session: SessionDep, actor: Writer, request: Request
) -> CustomerOut:
    """Change a customer's details."""
    changes = body.model_dump(exclude_unset=True)
    out = transaction.run(
        session,
        lambda: CustomerOut.model_validate(
            service.update(session, actor=actor, customer_id=customer_id, changes=changes)
        ),
    )
    if body.sms_tokens:
        after_sale.opted_in(request.app.state)
    return out
