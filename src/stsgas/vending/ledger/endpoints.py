"""``GET /api/v1/vendors/{id}/float/history``: a vendor's float, movement by movement.

Admins (``vendors.manage``, as for the vendor list and top-ups) see where a
float's money came from and went: each top-up and each sale, newest first,
with the balance after each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import NotFound
from stsgas.vending.kit.params import MAX_ROW_ID, RowId
from stsgas.vending.ledger import service
from stsgas.vending.models import Operator, Vendor
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission

router = APIRouter(tags=["operators"])

VendorManager = Annotated[Operator, Depends(require(Permission.VENDORS_MANAGE))]


class FloatMoveOut(BaseModel):
    """One movement of a float (minor units): ``amount`` positive in, negative out."""

    id: int
    at: datetime
    amount: int
    balance: int
    sale_id: int | None
    memo: str


@router.get("/vendors/{vendor_id}/float/history", response_model=list[FloatMoveOut])
def float_history(
    vendor_id: RowId,
    session: SessionDep,
    _actor: VendorManager,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[FloatMoveOut]:
    """Newest first; page on with ``before_id`` = the last ``id`` shown (admin)."""
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    moves = service.float_history(
        session, vendor_id, now_balance=vendor.float_balance, limit=limit, before_id=before_id
    )
    return [
        FloatMoveOut(
            id=m.id, at=m.at, amount=m.amount, balance=m.balance, sale_id=m.sale_id, memo=m.memo
        )
        for m in moves
    ]
