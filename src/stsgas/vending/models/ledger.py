"""The double-entry ledger (V5): every movement of money is two or more entries.

Within one ``journal`` the debits equal the credits; reconciliation sums
them per account and per sale. Account codes are stable strings such as
``vendor:7:float``, ``revenue:gas``, ``liability:tax``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import AccountKind, check_in


class Account(Base):
    """A ledger account; a vendor's float is one (``vendor_id`` set)."""

    __tablename__ = "accounts"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(10))
    vendor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("vendors.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint(check_in("kind", AccountKind), name="kind"),)


class LedgerEntry(Base):
    """One side of a journal: a debit or a credit (never both) to one account."""

    __tablename__ = "ledger_entries"

    id: Mapped[IntPK]
    journal: Mapped[str] = mapped_column(String(36), index=True)
    account_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("accounts.id"), index=True)
    sale_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("sales.id"), index=True)
    debit: Mapped[Money]
    credit: Mapped[Money]
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0) AND debit + credit > 0",
            name="one_side",
        ),
    )
