"""Customer wallets and the payments that fill them (issue 14).

A wallet is prepaid money a customer holds with the utility: a liability,
``customer:<id>:wallet`` in the ledger, with its balance kept on the
``wallets`` row so a purchase can check and draw it in one guarded
``UPDATE`` (``balance >= amount``). A payment is money a provider (mobile
money, the office counter) reported; the provider's transaction id is
unique, so a callback delivered twice moves money once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import check_in


class PaidFrom(StrEnum):
    """Which account pays for a sale."""

    #: the seller's vendor float (or its channel's clearing account without one)
    FLOAT = "float"
    #: the customer's wallet
    WALLET = "wallet"
    #: a mobile-money payment received for this very sale
    MOBILE = "mobile"


class PaymentState(StrEnum):
    """Where a reported payment stands."""

    #: reported, not yet confirmed with the provider
    RECEIVED = "received"
    #: confirmed and turned into a sale of gas
    SOLD = "sold"
    #: confirmed and credited to the customer's wallet
    TOPPED_UP = "topped_up"
    #: the provider did not confirm it: no money moved
    REJECTED = "rejected"


class Wallet(Base):
    """A customer's wallet balance (minor units), made with the customer."""

    __tablename__ = "wallets"

    customer_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("customers.id"), primary_key=True, autoincrement=False
    )
    balance: Mapped[Money]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)


class Payment(Base):
    """One payment a provider reported, unique by the provider's transaction id."""

    __tablename__ = "payments"

    id: Mapped[IntPK]
    provider: Mapped[str] = mapped_column(String(16))
    txn_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Money]
    #: what the payer typed as the account: a meter number or a customer account
    reference: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(10), default=PaymentState.RECEIVED.value)
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    sale_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("sales.id"), index=True)
    #: why it was rejected, or what it became ("below the minimum sale: to the wallet")
    detail: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    verified_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("provider", "txn_id"),
        CheckConstraint(check_in("state", PaymentState), name="state"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
