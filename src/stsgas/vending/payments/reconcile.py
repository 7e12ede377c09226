"""Reconciliation of mobile money against sales: what is on one side and not the other.

* payments without a sale that are not wallet top-ups either: received but
  never applied (the provider could not be asked, the reference names nothing),
  or marked sold without a sale;
* sales paid by mobile money that no payment names;
* refunds owed to payers: a cancelled mobile-money sale whose meter had no
  customer wallet to take the money back (:func:`owe_payer`, called by the
  cancel) owes its price to the phone that paid, until someone sends it back
  at the provider and marks it refunded here (:func:`mark_refunded`: once,
  audited).

Each list should be empty; what is in them is worked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import AlreadyRefunded, InvalidInput, NotFound
from stsgas.vending.models import Operator, PaidFrom, PayerRefund, Payment, PaymentState, Sale

__all__ = [
    "Orphans",
    "PaymentRow",
    "RefundOwed",
    "SaleRow",
    "mark_refunded",
    "orphans",
    "owe_payer",
    "refund_row",
    "refunds",
]


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
class RefundOwed:
    """A cancelled mobile-money sale's price owed to its payer (``refunded_at`` set
    once someone sent it back)."""

    id: int
    sale_id: int
    payment_id: int | None
    txn_id: str | None
    amount: int
    phone: str
    owed_at: datetime
    refunded_at: datetime | None = None
    refunded_by: str | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Orphans:
    """Every list of the reconciliation."""

    payments: list[PaymentRow]
    sales: list[SaleRow]
    refunds_owed: list[RefundOwed]


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
        refunds_owed=refunds(session, limit=limit),
    )


def _refunds() -> Select[PayerRefund, str, str]:
    """Refunds with their payment's transaction id and who marked them (outer joins)."""
    return (
        select(PayerRefund, Payment.txn_id, Operator.username)
        .outerjoin(Payment, Payment.id == PayerRefund.payment_id)
        .outerjoin(Operator, Operator.id == PayerRefund.refunded_by_id)
    )


def _row(refund: PayerRefund, txn_id: str | None, by: str | None) -> RefundOwed:
    return RefundOwed(
        id=refund.id,
        sale_id=refund.sale_id,
        payment_id=refund.payment_id,
        txn_id=txn_id,
        amount=refund.amount,
        phone=refund.phone,
        owed_at=refund.owed_at,
        refunded_at=refund.refunded_at,
        refunded_by=by,
        reference=refund.reference,
    )


def refunds(session: Session, *, paid: bool = False, limit: int = 500) -> list[RefundOwed]:
    """Refunds owed and not yet sent back, oldest first; ``paid``: those sent back,
    the latest marked first."""
    stmt = _refunds().limit(limit)
    if paid:
        stmt = stmt.where(PayerRefund.refunded_at.is_not(None)).order_by(
            PayerRefund.refunded_at.desc(), PayerRefund.id.desc()
        )
    else:
        stmt = stmt.where(PayerRefund.refunded_at.is_(None)).order_by(PayerRefund.id)
    return [_row(r, txn, by) for r, txn, by in session.execute(stmt).all()]


def refund_row(session: Session, refund_id: int) -> RefundOwed:
    """One refund owed (or paid), as the API shows it."""
    found = session.execute(_refunds().where(PayerRefund.id == refund_id)).first()
    if found is None:
        raise NotFound(f"no refund owed {refund_id}")
    return _row(found[0], found[1], found[2])


def owe_payer(session: Session, sale: Sale, now: datetime) -> PayerRefund | None:
    """Record that a cancelled mobile-money sale's price is owed to its payer (the cancel
    found no customer wallet to take it); nothing for a sale that cost nothing."""
    if sale.amount_paid <= 0:
        return None
    payment = session.execute(
        select(Payment.id, Payment.phone).where(Payment.sale_id == sale.id)
    ).first()
    row = PayerRefund(
        sale_id=sale.id,
        payment_id=None if payment is None else payment[0],
        amount=sale.amount_paid,
        phone="" if payment is None else payment[1],
        owed_at=now,
        reference="",
    )
    session.add(row)
    session.flush()
    return row


def mark_refunded(
    session: Session, refund_id: int, operator: Operator, *, reference: str, now: datetime
) -> RefundOwed:
    """The money went back to the payer: mark it so, once (a conditional ``UPDATE``, so
    two clicks or two operators cannot both settle it), audited with the provider's
    reference of the money sent."""
    reference = reference.strip()
    if not reference or len(reference) > 64:
        raise InvalidInput("give the provider's reference of the money sent back (1-64 chars)")
    done = session.execute(
        update(PayerRefund)
        .where(PayerRefund.id == refund_id, PayerRefund.refunded_at.is_(None))
        .values(refunded_at=now, refunded_by_id=operator.id, reference=reference)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        settled = refund_row(session, refund_id)  # NotFound when there is none
        raise AlreadyRefunded(
            f"refund {refund_id} was already marked refunded by {settled.refunded_by} "
            f"(reference {settled.reference})",
            refund_id=refund_id,
        )
    row = refund_row(session, refund_id)
    audit.record(
        session,
        actor=operator,
        action="payment.refund",
        object_type="sale",
        object_id=row.sale_id,
        data={
            "refund_id": row.id,
            "payment_id": row.payment_id,
            "amount": row.amount,
            "reference": reference,
        },
        at=now,
    )
    return row
