"""The append-only, hash-chained audit log (V4) and the idempotency records (V1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stsgas.vending.models.base import Base, BigIntId, IntPK, utcnow
from stsgas.vending.models.enums import IdempotencyState, check_in


class AuditEntry(Base):
    """Who did what, when. ``hash = sha256(prev_hash + canonical(entry))``;
    ``seq`` is unique so two writers cannot both extend the chain from one head."""

    __tablename__ = "audit_log"

    id: Mapped[IntPK]
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class IdempotencyRecord(Base):
    """A client's idempotency key for a non-sale request (management, top-ups).

    Sales keep theirs on the sale row; this table serves the other writes.
    """

    __tablename__ = "idempotency_records"

    id: Mapped[IntPK]
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default=IdempotencyState.IN_PROGRESS.value)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    operator_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint(check_in("state", IdempotencyState), name="state"),
    )
