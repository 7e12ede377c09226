"""``GET /api/v1/vendors/{id}/float/history``: a vendor's float, movement by movement.

Admins (``vendors.manage``, as for the vendor list and top-ups) see where a
float's money came from and went: each top-up and each sale, newest first,
with the balance after each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import NotFound
from stsgas.vending.kit.params import MAX_ROW_ID, RowId
from stsgas.vending.ledger import service
from stsgas.vending.ledger.schemas import MoveOut
from stsgas.vending.models import Operator, Vendor
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission

router = APIRouter(tags=["operators"])

VendorManager = Annotated[Operator, Depends(require(Permission.VENDORS_MANAGE))]


@router.get("/vendors/{vendor_id}/float/history", response_model=list[MoveOut])
def float_history(
    vendor_id: RowId,
    session: SessionDep,
    _actor: VendorManager,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[MoveOut]:
    """Newest first; page on with ``before_id`` = the last ``id`` shown (admin)."""
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} not found")
    moves = service.float_history(
        session, vendor_id, now_balance=vendor.float_balance, limit=limit, before_id=before_id
    )
    return [MoveOut.model_validate(m) for m in moves]
