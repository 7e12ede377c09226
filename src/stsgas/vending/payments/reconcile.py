"""Reconciliation of mobile money against sales: what is on one side and not the other.

* payments without a sale that are not wallet top-ups either: received but
  never applied (the provider could not be asked, the reference names nothing),
  or marked sold without a sale;
* sales paid by mobile money that no payment names.

Both lists should be empty; what is in them is worked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from stsgas.vending.models import PaidFrom, Payment, PaymentState, Sale

__all__ = ["Orphans", "PaymentRow", "SaleRow", "orphans"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    """A payment that became neither a sale nor a top-up."""

    id: int
    provider: str
    txn_id: str
    amount: int
    reference: str
    state: str
    detail: str
    received_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleRow:
    """A sale paid by mobile money that no payment names."""

    id: int
    meter_id: int
    amount_paid: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Orphans:
    """Both sides of the reconciliation."""

    payments: list[PaymentRow]
    sales: list[SaleRow]


def orphans(session: Session, *, limit: int = 500) -> Orphans:
    """Payments without a sale or top-up, and mobile-money sales without a payment."""
    pay_stmt = (
        select(Payment)
        .where(
            or_(
                Payment.state == PaymentState.RECEIVED.value,
                and_(Payment.state == PaymentState.SOLD.value, Payment.sale_id.is_(None)),
            )
        )
        .order_by(Payment.id)
        .limit(limit)
    )
    sale_stmt = (
        select(Sale.id, Sale.meter_id, Sale.amount_paid, Sale.created_at)
        .where(
            Sale.paid_from == PaidFrom.MOBILE.value,
            ~exists().where(Payment.sale_id == Sale.id),
        )
        .order_by(Sale.id)
        .limit(limit)
    )
    return Orphans(
        payments=[
            PaymentRow(
                id=p.id,
                provider=p.provider,
                txn_id=p.txn_id,
                amount=p.amount,
                reference=p.reference,
                state=p.state,
                detail=p.detail,
                received_at=p.received_at,
                verified_at=p.verified_at,
            )
            for p in session.execute(pay_stmt).scalars()
        ],
        sales=[
            SaleRow(id=i, meter_id=m, amount_paid=a, created_at=c)
            for i, m, a, c in session.execute(sale_stmt).all()
        ],
    )
