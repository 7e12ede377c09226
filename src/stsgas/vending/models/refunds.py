"""Money owed back to whoever paid a cancelled sale by mobile money (issue 14).

A cancelled mobile-money sale refunds the customer's wallet; a sale for a meter
without a customer (or wallet) cannot, so the price is owed to the payer's
phone and paid back by hand at the provider. One row per such sale, made in
the cancel's transaction; reconciliation lists the rows not yet refunded, and
an operator marks one refunded (once: a conditional ``UPDATE``, audited).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow


class PayerRefund(Base):
    """A cancelled mobile-money sale's price, owed to the payer until refunded."""

    __tablename__ = "payer_refunds"

    id: Mapped[IntPK]
    sale_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("sales.id"), unique=True)
    #: the payment that paid the sale (none for a sale no payment names)
    payment_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("payments.id"))
    amount: Mapped[Money]
    #: the payer's phone as the provider reported it ("" when unknown)
    phone: Mapped[str] = mapped_column(String(32), default="")
    owed_at: Mapped[datetime] = mapped_column(default=utcnow)
    refunded_at: Mapped[datetime | None]
    refunded_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    #: the provider's reference of the money sent back (its reversal or payout id)
    reference: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(refunded_at IS NULL) = (refunded_by_id IS NULL)", name="refunded_by_someone"
        ),
    )
