"""All SQL of the SMS channel: inbound message records, meter and owner look-ups.

Inbound messages are kept as idempotency records (scope ``sms:<phone>``,
key = the gateway's message id), which gives duplicate detection by a
unique constraint and, counted over a window, the per-phone rate limit;
meter commands add records under ``sms-m:<meter>`` and ``sms-c:<customer
id>``, which count per meter and per customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stsgas.vending.models import (
    Customer,
    CustomerMeter,
    IdempotencyRecord,
    IdempotencyState,
    Sale,
    SaleStatus,
)
from stsgas.vending.sales.receipts import Receipt

__all__ = [
    "OUTBOUND_FINGERPRINT",
    "add_record",
    "count_since",
    "delete_records",
    "get_record",
    "last_sale_receipt",
    "owner_phone",
]


#: the fingerprint of an outbound-only record (a token SMS after a sale, ``delivery``):
#: no SHA-256 hex digest looks like it, so no inbound message passes for one, and
#: such records are not counted against the phone's inbound budget
OUTBOUND_FINGERPRINT = "-" * 64


def get_record(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    """The stored inbound message, if this id was seen from this phone."""
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
    )
    return session.execute(stmt).scalar_one_or_none()


def count_since(session: Session, scope: str, since: datetime) -> int:
    """Messages recorded under ``scope`` since ``since`` (outbound-only ones not counted)."""
    stmt = (
        select(func.count())
        .select_from(IdempotencyRecord)
        .where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.created_at >= since,
            IdempotencyRecord.fingerprint != OUTBOUND_FINGERPRINT,
        )
    )
    return int(session.execute(stmt).scalar_one())


def add_record(
    session: Session,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    now: datetime,
    done: bool,
    body: dict[str, Any] | None,
) -> None:
    """Record one inbound message (flushes, so a duplicate id fails here)."""
    state = IdempotencyState.DONE if done else IdempotencyState.IN_PROGRESS
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            state=state.value,
            response_status=200 if done else None,
            response_body=body,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()


def delete_records(session: Session, key: str, scopes: list[str]) -> None:
    """Forget an unfinished message so the gateway's retry can run it again."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.key == key,
            IdempotencyRecord.scope.in_(scopes),
            IdempotencyRecord.state == IdempotencyState.IN_PROGRESS.value,
        )
    )


def owner_phone(session: Session, meter_id: int) -> str | None:
    """The phone of the customer the meter is linked to now."""
    stmt = (
        select(Customer.phone)
        .join(CustomerMeter, CustomerMeter.customer_id == Customer.id)
        .where(CustomerMeter.meter_id == meter_id, CustomerMeter.active == 1)
    )
    return session.execute(stmt).scalar_one_or_none()


def last_sale_receipt(session: Session, meter_id: int) -> Receipt | None:
    """The stored receipt of the meter's latest completed sale."""
    stmt = (
        select(Sale.response)
        .where(Sale.meter_id == meter_id, Sale.status == SaleStatus.COMPLETED.value)
        .order_by(Sale.created_at.desc(), Sale.id.desc())
        .limit(1)
    )
    body = session.execute(stmt).scalar_one_or_none()
    return None if body is None else Receipt.from_json(body)


def recent_messages(
    session: Session, *, limit: int, before_id: int | None = None
) -> list[IdempotencyRecord]:
    """Newest first: the inbound messages' records (one per message, under the phone's
    scope), for the SMS log."""
    stmt = select(IdempotencyRecord).where(IdempotencyRecord.scope.like("sms:%"))
    if before_id is not None:
        stmt = stmt.where(IdempotencyRecord.id < before_id)
    stmt = stmt.order_by(IdempotencyRecord.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())
