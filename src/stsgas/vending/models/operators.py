"""Operators (people and systems that use the API), their API tokens, vendors."""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stsgas.vending.models.base import Base, BigIntId, IntPK, Money, utcnow
from stsgas.vending.models.enums import Role, check_in


class Vendor(Base):
    """A point of sale that holds a prepaid float; sales draw it down (V2)."""

    __tablename__ = "vendors"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: prepaid float in minor units; a sale may not take it below zero
    float_balance: Mapped[Money]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: sales allowed per minute (None: the service default); counted on this row (V4)
    sales_per_minute: Mapped[int | None] = mapped_column(Integer)
    #: the minute (since the epoch) being counted, and the sales in it so far
    rate_window: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("float_balance >= 0", name="float_not_negative"),)


class Operator(Base):
    """A login: a role, a password hash, and who vouched for the account (V4).

    ``failed_logins`` and ``locked_until`` are no longer written: lockout is per
    account and source (:class:`LoginFailure`) and never touches issued tokens.
    """

    __tablename__ = "operators"

    id: Mapped[IntPK]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: cashiers sell for one vendor and see only its sales
    vendor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("vendors.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the admin who created or last re-enabled (or reset) the account; None: the CLI
    enabled_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    #: a second admin's activation; until then the account approves nothing
    activated_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    activated_at: Mapped[datetime | None]
    #: set by an admin's password reset: no login until the owner changes it
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)

    vendor: Mapped[Vendor | None] = relationship(lazy="raise", foreign_keys=[vendor_id])

    __table_args__ = (CheckConstraint(check_in("role", Role), name="role"),)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[IntPK]
    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="login")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(BigInteger, default=0)

    operator: Mapped[Operator] = relationship(lazy="raise")


class LoginFailure(Base):
    """Failed passwords for one username from one source (client address).

    Counted for unknown usernames too, so a lockout says nothing about which
    accounts exist. A lock refuses password logins from that source only; the
    account's issued tokens keep working.
    """

    __tablename__ = "login_failures"

    id: Mapped[IntPK]
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("username", "source"),)
