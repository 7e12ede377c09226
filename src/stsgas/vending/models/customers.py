"""Customers, meters and the link between them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import MeterMode, MeterStatus, check_in
from stsgas.vending.models.supply import SupplyGroup
from stsgas.vending.models.tariffs import Tariff


class Customer(Base):
    """A gas customer; ``debt_balance`` is recovered from payments per the tariff."""

    __tablename__ = "customers"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    debt_balance: Mapped[Money]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the hour (since the epoch) whose sales are counted, and the count (V4)
    rate_window: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_count: Mapped[int] = mapped_column(Integer, default=0)
    #: opted in: every sale's token(s) and receipt go to ``phone`` by SMS (``delivery``)
    sms_tokens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (CheckConstraint("debt_balance >= 0", name="debt_not_negative"),)


class Meter(Base):
    """A meter's identity and its *current* key data, as the meter itself holds it.

    ``last_tid`` is the highest TID issued to it: the next sale takes a larger
    one (V2). The ``pending_*`` columns name the key data a key change should
    move it to; the next sale issues the key change tokens first.
    """

    __tablename__ = "meters"

    id: Mapped[IntPK]
    pan: Mapped[str] = mapped_column(String(18), unique=True)
    iin: Mapped[str] = mapped_column(String(6))
    drn: Mapped[str] = mapped_column(String(13), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default=MeterStatus.ACTIVE.value)
    supply_group_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("supply_groups.id"))
    ti: Mapped[str] = mapped_column(String(2))
    ken: Mapped[int] = mapped_column(Integer, default=255)
    base_date: Mapped[int] = mapped_column(Integer)
    tariff_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("tariffs.id"))
    last_tid: Mapped[int] = mapped_column(BigInteger, default=0)
    #: the chain hash of the meter's latest sale (``sales.chain``)
    sales_head: Mapped[str | None] = mapped_column(String(64))
    pending_supply_group_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("supply_groups.id")
    )
    pending_ti: Mapped[str | None] = mapped_column(String(2))
    pending_base_date: Mapped[int | None] = mapped_column(Integer)
    #: the tariff the meter itself runs, as last issued to it (``management``): a
    #: version loaded over IR, or a flat TariffRate (0.01 money per m³), from when
    loaded_tariff_version_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("tariff_versions.id")
    )
    loaded_tariff_rate: Mapped[int | None] = mapped_column(Integer)
    loaded_tariff_from: Mapped[datetime | None]
    #: the IR counter of the last tariff command issued (the next must be larger)
    loaded_tariff_seq: Mapped[int | None] = mapped_column(BigInteger)
    #: the meter's recharge limit, the most one token may credit: litres (by volume) or
    #: minor units of money (by amount); None: no limit, the meter model's default
    recharge_limit: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    supply_group: Mapped[SupplyGroup] = relationship(lazy="raise", foreign_keys=[supply_group_id])
    pending_supply_group: Mapped[SupplyGroup | None] = relationship(
        lazy="raise", foreign_keys=[pending_supply_group_id]
    )
    tariff: Mapped[Tariff | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(check_in("mode", MeterMode), name="mode"),
        CheckConstraint(check_in("status", MeterStatus), name="status"),
        CheckConstraint("base_date IN (1993, 2014, 2035)", name="base_date"),
        CheckConstraint("last_tid >= 0", name="last_tid_not_negative"),
        CheckConstraint("recharge_limit > 0", name="recharge_limit_positive"),
    )

    @property
    def needs_key_change(self) -> bool:
        """True when a key change target is set (new SGC/KRN, TI or base date)."""
        return (
            self.pending_supply_group_id is not None
            or self.pending_ti is not None
            or self.pending_base_date is not None
        )


class CustomerMeter(Base):
    """Which customer a meter belongs to; ``unlinked_at`` keeps the history."""

    __tablename__ = "customer_meters"

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"), index=True)
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_at: Mapped[datetime | None]
    #: 1 while linked, NULL after: UNIQUE(meter_id, active) allows one live link
    active: Mapped[int | None] = mapped_column(Integer, default=1)

    customer: Mapped[Customer] = relationship(lazy="raise")
    meter: Mapped[Meter] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("meter_id", "active"),
        CheckConstraint("active = 1 OR active IS NULL", name="active_flag"),
    )
