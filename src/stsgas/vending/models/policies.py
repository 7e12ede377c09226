"""Credit policies at the counter: customer classes (free basic gas, emergency credit
limit), a customer's debt instalment plan and emergency credit, and the monthly
free-gas grants that make "once per customer per month" a unique index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, BigIntId, IntPK, utcnow


class CustomerClass(Base):
    """A class of customers (``lifeline``, ``standard``…): free gas per month and the
    largest emergency advance its customers may ask for (None: none)."""

    __tablename__ = "customer_classes"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    #: free gas per month for a by-volume meter, in litres (None: none)
    free_litres: Mapped[int | None] = mapped_column(BigInteger)
    #: free credit per month for a by-amount meter, in minor units (None: none)
    free_money: Mapped[int | None] = mapped_column(BigInteger)
    #: the largest emergency advance, in minor units (None: no emergency credit)
    emergency_max: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("free_litres IS NULL OR free_litres > 0", name="free_litres_positive"),
        CheckConstraint("free_money IS NULL OR free_money > 0", name="free_money_positive"),
        CheckConstraint(
            "emergency_max IS NULL OR emergency_max > 0", name="emergency_max_positive"
        ),
    )


class CustomerPolicy(Base):
    """One customer's credit policy: class, debt plan, emergency credit.

    A row exists only for a customer with a policy: a sale of any other customer
    needs no more than it did before (the event-loop sale path checks for the row).
    """

    __tablename__ = "customer_policies"

    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"), primary_key=True)
    class_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customer_classes.id"))
    #: "fixed" (``plan_amount`` per sale) or "percent" (``plan_bp`` of the sale); None: no plan
    plan_kind: Mapped[str | None] = mapped_column(String(8))
    plan_amount: Mapped[int | None] = mapped_column(BigInteger)
    plan_bp: Mapped[int | None] = mapped_column(Integer)
    plan_min: Mapped[int | None] = mapped_column(BigInteger)
    plan_max: Mapped[int | None] = mapped_column(BigInteger)
    #: an advance asked for and not yet given (given with the next sale), minor units
    emergency_asked: Mapped[int] = mapped_column(BigInteger, default=0)
    #: advance given and not yet repaid (part of the customer's debt), minor units
    emergency_owed: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("plan_kind IS NULL OR plan_kind IN ('fixed', 'percent')", name="plan_kind"),
        CheckConstraint(
            "plan_kind IS NULL OR (plan_kind = 'fixed' AND plan_amount > 0)"
            " OR (plan_kind = 'percent' AND plan_bp > 0 AND plan_bp <= 10000)",
            name="plan_rule",
        ),
        CheckConstraint(
            "plan_min IS NULL OR plan_max IS NULL OR plan_min <= plan_max", name="plan_bounds"
        ),
        CheckConstraint("emergency_asked >= 0", name="emergency_asked_not_negative"),
        CheckConstraint("emergency_owed >= 0", name="emergency_owed_not_negative"),
    )


class FreeGasGrant(Base):
    """Free basic gas given to a customer in a month (the utility's calendar month),
    with the sale that carried it: at most one per customer and month."""

    __tablename__ = "free_gas_grants"

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    #: "YYYY-MM"
    month: Mapped[str] = mapped_column(String(7))
    sale_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("sales.id"))
    litres: Mapped[int | None] = mapped_column(BigInteger)
    money: Mapped[int | None] = mapped_column(BigInteger)
    #: what the gas is worth at the tariff, minor units (posted to revenue:free_gas)
    value: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("customer_id", "month"),)
