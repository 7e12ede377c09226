"""``/api/v1/payments/refunds``: refunds owed to mobile-money payers, and marking one paid.

A cancelled mobile-money sale whose meter had no customer wallet owes its price
to the phone that paid (``refunded_to: "payer"`` in the cancel's answer). The
office sends the money back at the provider, then marks the refund here with
the provider's reference of that transfer: once (a second mark is 409
``already_refunded``), by someone who may cancel sales, audited
(``payment.refund``). Reconciliation lists those not yet marked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import RowId
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.payments import reconcile

__all__ = ["refund_json", "router"]

router = APIRouter(prefix="/api/v1/payments/refunds", tags=["payments"])
Reader = Annotated[Operator, Depends(require(Permission.REPORTS_READ))]
Settler = Annotated[Operator, Depends(require(Permission.SALES_CANCEL))]


class RefundedIn(BaseModel):
    """The money went back to the payer: the provider's reference of that transfer."""

    reference: str = Field(min_length=1, max_length=64)


def refund_json(row: reconcile.RefundOwed) -> dict[str, Any]:
    """A refund owed (or paid) as the API answers it; money in minor units."""
    return {
        "id": row.id,
        "sale_id": row.sale_id,
        "payment_id": row.payment_id,
        "txn_id": row.txn_id,
        "amount": row.amount,
        "phone": row.phone,
        "owed_at": row.owed_at.isoformat(),
        "refunded_at": None if row.refunded_at is None else row.refunded_at.isoformat(),
        "refunded_by": row.refunded_by,
        "reference": row.reference,
    }


@router.get("", response_model=None)
def listing(
    session: SessionDep,
    _reader: Reader,
    paid: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Refunds still owed, oldest first; ``paid=true``: those marked refunded, newest first."""
    return [refund_json(r) for r in reconcile.refunds(session, paid=paid, limit=limit)]


@router.post("/{refund_id}/refunded", response_model=None)
def refunded(
    refund_id: RowId, body: RefundedIn, session: SessionDep, operator: Settler
) -> dict[str, Any]:
    """Mark the refund paid back (once; audited): 200 with it, 404 none, 409 already."""
    row = transaction.run(
        session,
        lambda: reconcile.mark_refunded(
            session, refund_id, operator, reference=body.reference, now=datetime.now(UTC)
        ),
    )
    return refund_json(row)
