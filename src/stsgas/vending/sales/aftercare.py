"""After a sale: reading it (object-level checks) and reprints.

A cashier sees only its own vendor's sales (V4, BOLA). A reprint returns the
very same token marked COPY and counts it. A cancelled sale never shows its
token again: not in a reprint, a read, or an idempotent replay
(cancelling itself is ``sales.cancel``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import NotFound, SaleCancelled, SaleNotFound
from stsgas.vending.models import Operator, Sale, SaleStatus
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sales.repository import SaleRepository


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
    refuse_if_cancelled(sale)
    return body_of(sale)


def refuse_if_cancelled(sale: Sale) -> None:
    """:class:`SaleCancelled` for a cancelled sale: its token must not be handed out."""
    if sale.status == SaleStatus.CANCELLED.value:
        when = sale.cancelled_at.isoformat(timespec="seconds") if sale.cancelled_at else None
        raise SaleCancelled(
            f"sale {sale.id} was cancelled; its token is void", sale_id=sale.id, cancelled_at=when
        )


def receipt_of(sale: Sale) -> Receipt:
    """The receipt stored with a sale."""
    assert sale.response is not None, f"sale {sale.id} has no receipt"
    return Receipt.from_json(sale.response)


def body_of(sale: Sale) -> dict[str, Any]:
    """A sale as the API reads it: the receipt with its status; a cancelled sale's
    receipt without its token(s)."""
    return (
        receipt_of(sale)
        .read_as(
            status=sale.status, reprint_count=sale.reprint_count, cancelled_at=sale.cancelled_at
        )
        .as_json()
    )


def list_visible(
    session: Session, operator: Operator, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Receipts of the sales the operator may see, newest first."""
    vendor = None if allowed(operator.role, Permission.SALES_READ_ALL) else operator.vendor_id
    if vendor is None and not allowed(operator.role, Permission.SALES_READ_ALL):
        return []
    rows = SaleRepository(session).page(vendor_id=vendor, limit=limit, offset=offset)
    return [body_of(s) for s in rows]


def can_see(operator: Operator, sale: Sale) -> bool:
    """Object-level rule: all sales for read-all roles, else only the own vendor's."""
    if allowed(operator.role, Permission.SALES_READ_ALL):
        return True
    return operator.vendor_id is not None and operator.vendor_id == sale.vendor_id


def reprint(session: Session, sale_id: int, operator: Operator) -> dict[str, Any]:
    """The original receipt and token again, marked as a copy and counted."""
    sale = get_visible(session, sale_id, operator)
    refuse_if_cancelled(sale)
    count = SaleRepository(session).bump_reprint(sale.id)
    if count is None:
        raise SaleCancelled(f"sale {sale.id} was cancelled; its token is void", sale_id=sale.id)
    audit.record(
        session,
        actor=operator,
        action="sale.reprint",
        object_type="sale",
        object_id=sale.id,
        data={"reprint": count},
    )
    return receipt_of(sale).copy_of(count, status=sale.status).as_json()
