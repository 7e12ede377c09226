"""What meters report when read in the field: readouts and the history they carry.

A readout file (format ``stsgas-readout/1``) is kept once, keyed by the SHA-256
of its bytes; its monthly and hourly consumption, events and settings are merged
into per-meter tables, one row per month, hour, (time, event code) and setting
name, so overlapping readouts never count anything twice. Volumes are litres
(the readout's m³ have three decimals), never floats. A visit clears the meter's
visit flag for the events up to its time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, BigIntId, IntPK, utcnow


class Readout(Base):
    """One uploaded readout file: who brought it, when, and what it said at the top."""

    __tablename__ = "readouts"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    #: hex SHA-256 of the file's bytes: the same file twice is the same readout
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: the meter's clock when it was read
    read_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(8))
    #: the registers as read (decimal strings), e.g. credit, total_m3, battery_v, valve
    registers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    months: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonthlyUse(Base):
    """Gas the meter counted in one of its local months (the newest readout's figure)."""

    __tablename__ = "meter_monthly_use"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    #: "YYYY-MM"
    month: Mapped[str] = mapped_column(String(7))
    litres: Mapped[int] = mapped_column(BigInteger)
    #: money the meter charged that month (amount meters, minor units) when the file says
    amount: Mapped[int | None] = mapped_column(BigInteger)
    read_at: Mapped[datetime]
    readout_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("readouts.id"))

    __table_args__ = (UniqueConstraint("meter_id", "month"),)


class HourlyUse(Base):
    """Gas the meter counted in one clock hour."""

    __tablename__ = "meter_hourly_use"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    hour: Mapped[datetime]
    litres: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[datetime]
    readout_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("readouts.id"))

    __table_args__ = (UniqueConstraint("meter_id", "hour"),)


class MeterEvent(Base):
    """One entry of the meter's event log (``code`` as the meter names it)."""

    __tablename__ = "meter_events"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    at: Mapped[datetime]
    code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(200), default="")
    readout_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("readouts.id"))

    __table_args__ = (UniqueConstraint("meter_id", "at", "code"),)


class ReadSetting(Base):
    """A field setting as the meter last reported it (text as read, units fixed)."""

    __tablename__ = "meter_read_settings"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(80))
    read_at: Mapped[datetime]
    readout_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("readouts.id"))

    __table_args__ = (UniqueConstraint("meter_id", "name"),)


class MeterVisit(Base):
    """Someone went to the meter: its visit-worthy events up to ``visited_at`` are dealt with."""

    __tablename__ = "meter_visits"

    id: Mapped[IntPK]
    meter_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("meters.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    note: Mapped[str] = mapped_column(String(400), default="")
