"""Read-only sales lists for the console (the API has one sale by id, not lists).

The object-level rule is the API's own: an operator with ``sales.read_all``
sees every sale, one with only ``sales.read_own`` sees its vendor's sales
(or, without a vendor, its own), anyone else none. The stored receipt of
each sale is what the pages show, so a list row and the receipt agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.models import Operator, Sale, Vendor
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.sales.receipts import Receipt

__all__ = ["vendor_float", "visible_sales"]


def visible_sales(
    session: Session,
    operator_id: int,
    *,
    meter_id: int | None = None,
    customer_id: int | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[Receipt]:
    """Newest first: the receipts of the sales ``operator_id`` may read, as a read of
    each sale shows them (status now; a cancelled sale without its tokens)."""
    op = session.get(Operator, operator_id)
    if op is None or not op.is_active:
        return []
    stmt = select(Sale).order_by(Sale.created_at.desc(), Sale.id.desc()).limit(limit)
    if not allowed(op.role, Permission.SALES_READ_ALL):
        if not allowed(op.role, Permission.SALES_READ_OWN):
            return []
        stmt = stmt.where(
            Sale.vendor_id == op.vendor_id
            if op.vendor_id is not None
            else Sale.operator_id == op.id
        )
    if meter_id is not None:
        stmt = stmt.where(Sale.meter_id == meter_id)
    if customer_id is not None:
        stmt = stmt.where(Sale.customer_id == customer_id)
    if since is not None:
        stmt = stmt.where(Sale.created_at >= since)
    return [
        Receipt.from_json(sale.response).read_as(
            status=sale.status, reprint_count=sale.reprint_count, cancelled_at=sale.cancelled_at
        )
        for sale in session.execute(stmt).scalars()
        if sale.response is not None
    ]


def vendor_float(session: Session, vendor_id: int) -> int | None:
    """A vendor's float in minor units (shown to its own cashiers on the dashboard)."""
    vendor = session.get(Vendor, vendor_id)
    return None if vendor is None else vendor.float_balance
