"""Supply groups: the SGC + key revision a vending key belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, IntPK, utcnow


class SupplyGroup(Base):
    """One (SGC, KRN) with its algorithms and its vending key, encrypted at rest (V3).

    ``vending_key_enc`` is the AES-GCM blob made by ``keys.SoftwareSecurityModule``;
    nothing else ever reads it and no API returns it.
    """

    __tablename__ = "supply_groups"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), default="")
    sgc: Mapped[str] = mapped_column(String(6))
    krn: Mapped[int] = mapped_column(Integer)
    key_type: Mapped[int] = mapped_column(Integer, default=2)
    base_date: Mapped[int] = mapped_column(Integer)
    ea: Mapped[int] = mapped_column(Integer)
    dkga: Mapped[int] = mapped_column(Integer)
    vending_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: key expiry number given to meters of this group (255 = never)
    ken: Mapped[int] = mapped_column(Integer, default=255)
    #: the key's issue-until time (IUT); no token is made with it after that
    key_expires_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("sgc", "krn"),
        CheckConstraint("krn BETWEEN 1 AND 15", name="krn_range"),
        CheckConstraint("key_type BETWEEN 0 AND 3", name="key_type_range"),
        CheckConstraint("base_date IN (1993, 2014, 2035)", name="base_date"),
        CheckConstraint("ea IN (7, 9, 11)", name="ea"),
        CheckConstraint("dkga IN (2, 4)", name="dkga"),
        CheckConstraint("ken BETWEEN 0 AND 255", name="ken_range"),
    )
