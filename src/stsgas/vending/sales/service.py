"""Sale rules (V1, V2) for a caller's session: the pipeline on the session's store.

One transaction locks the meter, allocates the TID, makes the token(s), draws
the vendor float (or the wallet) and writes sale + tokens + ledger; the rules
and their order are :mod:`.pipeline`'s, the same the event-loop path runs.
The sale row is its own audit record (the audit chain's global lock stays off
this hot path); reprints, cancellations and management tokens are audited.
The caller owns the transaction (``stsgas.vending.transaction``); nothing
here commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Sale
from stsgas.vending.sales import pipeline
from stsgas.vending.sales.compose import journal_lines
from stsgas.vending.sales.pipeline import SaleResult
from stsgas.vending.sales.request import (
    MAX_PAID,
    SaleRequest,
    Seller,
    fingerprint,
    parse_amount,
    parse_meter_number,
)
from stsgas.vending.sales.settle import SaleLimits
from stsgas.vending.sales.stores import store_for

__all__ = [
    "MAX_PAID",
    "SaleLimits",
    "SaleRequest",
    "SaleResult",
    "Seller",
    "fingerprint",
    "journal_lines",
    "parse_amount",
    "parse_meter_number",
    "sale_lines",
    "sell",
    "store_for",
]


def sell(
    session: Session,
    req: SaleRequest,
    *,
    operator: Seller,
    security: SecurityModule,
    now: datetime | None = None,
    limits: SaleLimits | None = None,
) -> SaleResult:
    """Sell ``req.paid`` of gas to a meter, or replay the sale of the same key."""
    steps = pipeline.sale(
        req,
        operator,
        security=security,
        limits=limits or SaleLimits(),
        now=now or datetime.now(UTC),
    )
    return pipeline.run(steps, store_for(session))


def sale_lines(sale: Sale) -> list[ledger.Line]:
    """The journal of a stored sale (a cancellation posts its reversal)."""
    return journal_lines(
        vendor_id=sale.vendor_id,
        channel=sale.channel,
        paid=sale.amount_paid,
        energy=sale.energy_amount,
        fixed=sale.fixed_charge,
        tax=sale.tax,
        debt=sale.debt_recovered,
        paid_from=sale.paid_from,
        customer_id=sale.customer_id,
    )
