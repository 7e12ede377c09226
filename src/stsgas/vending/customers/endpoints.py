"""/api/v1/customers: thin endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from stsgas.vending.customers import service
from stsgas.vending.customers.repository import CustomerRepository
from stsgas.vending.customers.schemas import CustomerIn, CustomerOut, CustomerPatch
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import Offset, RowId
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission

router = APIRouter(prefix="/customers", tags=["customers"])
Writer = Annotated[Operator, Depends(require(Permission.CUSTOMERS_WRITE))]
Reader = Annotated[Operator, Depends(require(Permission.CUSTOMERS_READ))]


@router.post("", response_model=CustomerOut, status_code=status.HTTP_201_CREATED)
def create(body: CustomerIn, session: SessionDep, actor: Writer) -> CustomerOut:
    """Add a customer."""
    return CustomerOut.model_validate(service.create(session, actor=actor, **body.model_dump()))


@router.get("", response_model=list[CustomerOut])
def search(
    session: SessionDep,
    _r: Reader,
    response: Response,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> list[CustomerOut]:
    """Customers whose name or phone contains ``q``; the total is in X-Total-Count."""
    rows, total = CustomerRepository(session).search(q, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [CustomerOut.model_validate(c) for c in rows]


@router.get("/{customer_id}", response_model=CustomerOut)
def get(customer_id: RowId, session: SessionDep, _r: Reader) -> CustomerOut:
    """One customer."""
    return CustomerOut.model_validate(service.get(session, customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
def update(
    customer_id: RowId, body: CustomerPatch, session: SessionDep, actor: Writer
) -> CustomerOut:
    """Change a customer's details."""
    c = service.update(
        session, actor=actor, customer_id=customer_id, changes=body.model_dump(exclude_unset=True)
    )
    return CustomerOut.model_validate(c)
