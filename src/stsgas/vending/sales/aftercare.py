"""After a sale: reading it (object-level checks), reprints and cancellation.

A cashier sees only its own vendor's sales (V4, BOLA). A reprint returns the
very same token marked COPY and counts it. A supervisor cancels an unused
sale by reversing its journal and refunding the float; if the customer says
the token was already entered, a clear-credit token goes with the refund.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stsgas.sts import ClearCredit, management_token
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import Conflict, NotFound, SaleNotFound
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    ManagementKind,
    ManagementRequest,
    MeterMode,
    Operator,
    RequestStatus,
    Sale,
    SaleStatus,
    TokenKind,
)
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.sales import issue, receipts
from stsgas.vending.sales import service as sales_service
from stsgas.vending.sales.repository import MeterRepository, SaleRepository, VendorRepository

#: the meter's gas credit registers: units (subclass 2) and currency (subclass 6)
REGISTER_UNITS = 2
REGISTER_CURRENCY = 6


def get_visible(session: Session, sale_id: int, operator: Operator) -> Sale:
    """A sale the operator may see; others' sales look absent (no existence leak)."""
    sale = SaleRepository(session).by_id(sale_id)
    if sale is None or not can_see(operator, sale):
        raise NotFound(f"no sale {sale_id}")
    return sale


def outcome(session: Session, operator: Operator, channel: str, key: str) -> dict[str, Any]:
    """What became of a request whose answer was lost: the sale this operator
    committed under ``(channel, key)``, or :class:`SaleNotFound` (none: retrying
    that key is safe). Keys are per operator, so nobody reads another's."""
    sale = SaleRepository(session).by_idempotency_key(operator.id, channel, key)
    if sale is None or not can_see(operator, sale):
        raise SaleNotFound(
            "no sale was committed under this idempotency key; "
            "send the same request again with the same key"
        )
    return {**(sale.response or {}), "status": sale.status, "reprint_count": sale.reprint_count}


def list_visible(
    session: Session, operator: Operator, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Receipts of the sales the operator may see, newest first."""
    vendor = None if allowed(operator.role, Permission.SALES_READ_ALL) else operator.vendor_id
    if vendor is None and not allowed(operator.role, Permission.SALES_READ_ALL):
        return []
    rows = SaleRepository(session).page(vendor_id=vendor, limit=limit, offset=offset)
    return [
        {**(s.response or {}), "status": s.status, "reprint_count": s.reprint_count}
        for s in rows
    ]


def can_see(operator: Operator, sale: Sale) -> bool:
    """Object-level rule: all sales for read-all roles, else only the own vendor's."""
    if allowed(operator.role, Permission.SALES_READ_ALL):
        return True
    return operator.vendor_id is not None and operator.vendor_id == sale.vendor_id


def reprint(session: Session, sale_id: int, operator: Operator) -> dict[str, Any]:
    """The original receipt and token again, marked as a copy and counted."""
    sale = get_visible(session, sale_id, operator)
    count = SaleRepository(session).bump_reprint(sale.id)
    audit.record(session, actor=operator, action="sale.reprint", object_type="sale",
                 object_id=sale.id, data={"reprint": count})
    body = dict(sale.response or {})
    body.update(copy=True, reprint_count=count, status=sale.status)
    body["notes"] = [*body.get("notes", []), f"COPY {count} - this token was issued before"]
    return body


def cancel(
    session: Session,
    sale_id: int,
    operator: Operator,
    *,
    reason: str,
    token_used: bool,
    security: SecurityModule,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Void a sale: reverse its journal, refund float and debt; clear credit if used."""
    now = now or datetime.now(UTC)
    repo = SaleRepository(session)
    found = get_visible(session, sale_id, operator)
    meters = MeterRepository(session)
    meter = meters.lock(found.meter_id)
    sale = repo.by_id(found.id)
    assert sale is not None
    if sale.status != SaleStatus.COMPLETED.value:
        raise Conflict(f"sale {sale.id} is already {sale.status}")
    follow_up: dict[str, Any] | None = None
    if token_used:
        follow_up = _clear_credit(session, sale, operator, security, now, reason)
    ledger.post(session, ledger.reverse(sales_service.sale_lines(sale)), sale_id=sale.id,
                memo=f"cancel sale {sale.id}")
    if sale.vendor_id is not None:
        VendorRepository(session).refund(sale.vendor_id, sale.amount_paid)
    if sale.debt_recovered and sale.customer_id is not None:
        customer = meters.customer(meter.id, for_update=True)
        if customer is not None and customer.id == sale.customer_id:
            customer.debt_balance += sale.debt_recovered
    sale.status = SaleStatus.CANCELLED.value
    sale.cancelled_by_id = operator.id
    sale.cancelled_at = now
    audit.record(session, actor=operator, action="sale.cancel", object_type="sale",
                 object_id=sale.id, data={"reason": reason, "token_used": token_used}, at=now)
    session.flush()
    return {"sale_id": sale.id, "status": sale.status, "refunded": receipts.money(sale.amount_paid),
            "clear_credit": follow_up}


def _clear_credit(
    session: Session, sale: Sale, operator: Operator, security: SecurityModule,
    now: datetime, reason: str,
) -> dict[str, Any]:
    meter = MeterRepository(session).lock(sale.meter_id)
    config, kcts = issue.apply_key_change(session, meter, security, now)
    if kcts:
        raise Conflict("the meter has a key change pending; sell or change its key first")
    tid = issue.next_tid(meter, now)
    register = REGISTER_UNITS if meter.mode == MeterMode.VOLUME.value else REGISTER_CURRENCY
    issued = management_token(
        config, ClearCredit(tid=tid, rnd=secrets.randbelow(16), register=register)
    )
    assert issued.tid == tid
    req = ManagementRequest(
        meter_id=meter.id, kind=ManagementKind.CLEAR_CREDIT.value,
        params={"register": register, "sale_id": sale.id}, reason=reason,
        status=RequestStatus.ISSUED.value, requested_by_id=operator.id,
        decided_by_id=operator.id, sale_id=sale.id, created_at=now, decided_at=now,
    )
    session.add(req)
    session.flush()
    tokens = issue.store_tokens(
        session, [(TokenKind.MGMT.value, issued)], meter_id=meter.id, request_id=req.id, now=now
    )
    meter.last_tid = tid
    return {"request_id": req.id, **receipts.token_view(tokens[0])}
