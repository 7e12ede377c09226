"""Sales, the tokens they issue, and management token requests.

Invariants the database enforces (STYLE §3.5, V1, V2):
``UNIQUE(meter_id, tid)`` on tokens (NULL TIDs — key change tokens — are
exempt), ``UNIQUE(operator_id, channel, idempotency_key)`` on sales (a key
is its operator's own), and every token belongs to a sale or a management
request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import (
    Channel,
    ManagementKind,
    RequestStatus,
    SaleStatus,
    TokenKind,
    check_in,
)
from stsgas.vending.models.wallet import PaidFrom


class Sale(Base):
    """Money in, credit out: one row per paid sale, written in one transaction.

    ``amount_paid = fixed_charge + debt_recovered + tax + energy_amount``.
    For volume meters ``credit_units`` is the credit in 0.1 m³ (the token's
    unit for gas); for amount meters ``credit_money`` is in minor units.
    """

    __tablename__ = "sales"

    id: Mapped[IntPK]
    channel: Mapped[str] = mapped_column(String(8))
    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id"), index=True)
    vendor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("vendors.id"), index=True)
    #: indexed with ``created_at`` (``__table_args__``): a sale's month reads its own rows
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"))
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    tariff_version_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("tariff_versions.id")
    )
    amount_paid: Mapped[Money]
    fixed_charge: Mapped[Money]
    #: months of a monthly fixed charge this sale paid (0: already paid; None: per sale)
    fixed_months: Mapped[int | None] = mapped_column(Integer)
    debt_recovered: Mapped[Money]
    tax: Mapped[Money]
    energy_amount: Mapped[Money]
    credit_units: Mapped[int | None] = mapped_column(BigInteger)
    credit_money: Mapped[int | None] = mapped_column(BigInteger)
    tariff_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    key_change: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default=SaleStatus.COMPLETED.value)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: SHA-256 linking this sale to the meter's previous one (``sales.chain``)
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    reprint_count: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: which account paid (``PaidFrom``): the vendor float, the customer's wallet, or
    #: a mobile-money payment
    paid_from: Mapped[str] = mapped_column(
        String(8), default=PaidFrom.FLOAT.value, server_default=PaidFrom.FLOAT.value
    )

    tokens: Mapped[list[Token]] = relationship(
        lazy="raise", back_populates="sale", order_by="Token.sequence"
    )

    __table_args__ = (
        UniqueConstraint("operator_id", "channel", "idempotency_key"),
        Index("ix_sales_meter_id_created_at", "meter_id", "created_at"),
        CheckConstraint(check_in("channel", Channel), name="channel"),
        CheckConstraint(check_in("status", SaleStatus), name="status"),
        CheckConstraint(check_in("paid_from", PaidFrom), name="paid_from"),
        CheckConstraint("amount_paid > 0", name="amount_positive"),
        CheckConstraint(
            "amount_paid = fixed_charge + debt_recovered + tax + energy_amount",
            name="amount_itemised",
        ),
    )


class ManagementRequest(Base):
    """A management token asked for by one operator and approved by another (V4)."""

    __tablename__ = "management_requests"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(400), default="")
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING.value)
    requested_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id"))
    decided_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    sale_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("sales.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    #: the asker's Idempotency-Key: a retried request returns this request (V1)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    #: a load_tariff request's signed IR command, once approved
    ir_command: Mapped[str | None] = mapped_column(String(250))

    __table_args__ = (
        CheckConstraint(check_in("kind", ManagementKind), name="kind"),
        CheckConstraint(check_in("status", RequestStatus), name="status"),
        UniqueConstraint("requested_by_id", "idempotency_key"),
    )


class Token(Base):
    """An issued 20-digit token; ``sequence`` is its place in the entry order."""

    __tablename__ = "tokens"

    id: Mapped[IntPK]
    sale_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("sales.id"), index=True)
    management_request_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("management_requests.id"), index=True
    )
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"))
    kind: Mapped[str] = mapped_column(String(8))
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    token_class: Mapped[int] = mapped_column(Integer)
    subclass: Mapped[int] = mapped_column(Integer)
    tid: Mapped[int | None] = mapped_column(BigInteger)
    #: credited amount in the token's own unit (0.1 m³, or 10^-5 currency)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    digits: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sale: Mapped[Sale | None] = relationship(lazy="raise", back_populates="tokens")

    __table_args__ = (
        UniqueConstraint("meter_id", "tid"),
        CheckConstraint(check_in("kind", TokenKind), name="kind"),
        CheckConstraint(
            "sale_id IS NOT NULL OR management_request_id IS NOT NULL", name="has_origin"
        ),
        CheckConstraint("kind = 'kct' OR tid IS NOT NULL", name="tid_unless_kct"),
    )
