"""What a printed receipt needs from the database: the sale's receipt (as the API reads
it, so a cancelled sale prints without its token), its vendor's name and its customer's
name, masked as everywhere a receipt goes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from stsgas.vending.customers.service import mask_name
from stsgas.vending.models import Customer, Operator, Vendor
from stsgas.vending.printing.layout import PrintedReceipt, escpos_bytes
from stsgas.vending.printing.settings import PrintSettings, load
from stsgas.vending.sales import aftercare
from stsgas.vending.sales.receipts import Receipt


def printed_receipt(
    session: Session, sale_id: int, operator: Operator, settings: PrintSettings
) -> PrintedReceipt:
    """The receipt of a sale ``operator`` may see, with its names (NotFound otherwise)."""
    sale = aftercare.get_visible(session, sale_id, operator)
    vendor = session.get(Vendor, sale.vendor_id) if sale.vendor_id is not None else None
    customer = session.get(Customer, sale.customer_id) if sale.customer_id is not None else None
    return PrintedReceipt(
        receipt=Receipt.from_json(aftercare.body_of(sale)),
        utility=settings.utility_name,
        vendor=vendor.name if vendor else None,
        customer=mask_name(customer.name) if customer else None,
        currency=settings.currency,
        columns=settings.columns,
    )


def sale_escpos(session: Session, sale_id: int, operator: Operator) -> bytes:
    """The ESC/POS bytes of a sale's receipt, by the ``STSGAS_RECEIPT_*`` settings."""
    return escpos_bytes(printed_receipt(session, sale_id, operator, load()))
