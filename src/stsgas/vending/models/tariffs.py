"""Tariffs: a name and mode, versions with effective dates, and price steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import FixedChargePeriod, MeterMode, check_in


class Tariff(Base):
    """A named tariff for one meter mode; prices live in its versions."""

    __tablename__ = "tariffs"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    mode: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[TariffVersion]] = relationship(
        lazy="raise", back_populates="tariff", order_by="TariffVersion.effective_from"
    )

    __table_args__ = (CheckConstraint(check_in("mode", MeterMode), name="mode"),)


class TariffVersion(Base):
    """Prices from ``effective_from`` on; the latest version in force applies.

    ``fixed_charge`` (minor units) is due per ``fixed_charge_period``: with every
    sale, or once a month (paid by the month's first sale; months without a sale
    are paid by the next one, ``sales.compose``); ``tax_rate_bp`` is
    in basis points of the energy amount; ``debt_recovery_bp`` is the share of
    a payment (basis points) taken against the customer's debt.
    """

    __tablename__ = "tariff_versions"

    id: Mapped[IntPK]
    tariff_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tariffs.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime]
    fixed_charge: Mapped[Money]
    fixed_charge_period: Mapped[str] = mapped_column(
        String(8), default=FixedChargePeriod.SALE.value, server_default=FixedChargePeriod.SALE.value
    )
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    debt_recovery_bp: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))

    tariff: Mapped[Tariff] = relationship(lazy="raise", back_populates="versions")
    steps: Mapped[list[TariffStep]] = relationship(
        lazy="raise", order_by="TariffStep.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("tariff_id", "version"),
        UniqueConstraint("tariff_id", "effective_from"),
        CheckConstraint("fixed_charge >= 0", name="fixed_charge_not_negative"),
        CheckConstraint(
            check_in("fixed_charge_period", FixedChargePeriod), name="fixed_charge_period"
        ),
        CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_range"),
        CheckConstraint("debt_recovery_bp BETWEEN 0 AND 10000", name="debt_recovery_range"),
    )


class TariffStep(Base):
    """One price block: up to ``up_to_litres`` of the month's volume (NULL = no limit).

    ``price_per_m3`` is in minor units per m³.
    """

    __tablename__ = "tariff_steps"

    id: Mapped[IntPK]
    tariff_version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("tariff_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    up_to_litres: Mapped[int | None] = mapped_column(BigInteger)
    price_per_m3: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("tariff_version_id", "position"),
        CheckConstraint("position BETWEEN 1 AND 10", name="position_range"),
        CheckConstraint("price_per_m3 > 0", name="price_positive"),
    )
