"""Sale rules (V1, V2): one transaction locks the meter, allocates the TID,
makes the token(s), draws the vendor float and writes sale + tokens + ledger.
The sale row is its own audit record (the audit chain's global lock stays
off this hot path); reprints, cancellations and management tokens are
audited. The caller owns the transaction (``stsgas.vending.transaction``); nothing
here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stsgas.sts import IssuedToken
from stsgas.vending.delivery import hook as after_sale
from stsgas.vending.errors import (
    IdempotencyMismatch,
    MeterNotFound,
    SaleCancelled,
)
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Meter, Sale, SaleStatus
from stsgas.vending.policies import repository as policies
from stsgas.vending.policies.rules import PolicyPriced
from stsgas.vending.sales import payer, step
from stsgas.vending.sales.compose import (
    SaleLimits,
    SaleRequest,
    Seller,
    compose,
    fingerprint,
    journal_lines,
    month_start,
    settle,
)
from stsgas.vending.sales.issue import apply_key_change, group_config, next_tid
from stsgas.vending.sales.repository import SaleRepository
from stsgas.vending.sales.request import MAX_PAID, parse_amount, parse_meter_number
from stsgas.vending.sales.rows import SaleStore
from stsgas.vending.sales.store import CoreSaleStore
from stsgas.vending.sales.store_pg import PgSaleStore

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
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleResult:
    """The receipt and whether it answers a replayed idempotency key."""

    receipt: dict[str, Any]
    replayed: bool


def store_for(session: Session) -> SaleStore:
    """The sale store of the session's database engine."""
    if session.get_bind().dialect.name == "postgresql":
        return PgSaleStore(session)
    return CoreSaleStore(session)


def _replay(sale: Sale, fp: str) -> SaleResult:
    """The stored receipt again; a cancelled sale answers that it is cancelled (409),
    never its token."""
    if sale.request_fingerprint != fp or sale.response is None:
        raise IdempotencyMismatch("this idempotency key was used for a different request")
    if sale.status == SaleStatus.CANCELLED.value:
        when = sale.cancelled_at.isoformat(timespec="seconds") if sale.cancelled_at else None
        raise SaleCancelled(
            f"sale {sale.id} made under this idempotency key was cancelled; its token is void",
            sale_id=sale.id,
            cancelled_at=when,
        )
    return SaleResult(receipt=sale.response, replayed=True)


def _replay_by_id(session: Session, sale_id: int, fp: str) -> SaleResult:
    sale = session.get(Sale, sale_id)
    assert sale is not None
    return _replay(sale, fp)


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
    now = now or datetime.now(UTC)
    store = store_for(session)
    fp = fingerprint(req, operator)
    meter = store.lock_meter(
        req.meter_number,
        operator_id=operator.id,
        channel=req.channel,
        key=req.idempotency_key,
        now=now,
        month_start=month_start(now),
    )
    if meter is not None and meter.replay_id is None and meter.credit_policy:
        # the customer's credit policy, read with the customer locked (``policies``); the
        # lock statement says whether there is one, so a customer without pays nothing more
        assert meter.customer_id is not None
        meter = replace(meter, policy=policies.read(session, meter.customer_id, now))
    decision = step.decide(meter, req, operator, now)
    if isinstance(decision, step.Replay):
        return _replay_by_id(session, decision.sale_id, fp)
    if isinstance(decision, step.NoMeter):
        # no such meter, but a committed sale under this key still answers a replay
        if req.idempotency_key is not None:
            done = SaleRepository(session).by_idempotency_key(
                operator.id, req.channel, req.idempotency_key
            )
            if done is not None:
                return _replay(done, fp)
        raise MeterNotFound(f"no meter {req.meter_number} is registered", pan=req.meter_number)
    meter = decision.meter
    payer.draw_wallet(session, meter, req, decision.priced.paid, now)
    kcts: list[IssuedToken] = []
    orm_meter: Meter | None = None
    if decision.key_change:
        orm_meter = session.get(Meter, meter.id)  # locked above; the ORM writes the move
        assert orm_meter is not None
        config, kcts = apply_key_change(session, orm_meter, security, now)
        tid = next_tid(orm_meter, now)
        orm_meter.last_tid = tid
    else:
        config = group_config(meter, security, now)
        tid = next_tid(meter, now)
    composed = compose(
        meter,
        decision.version,
        decision.priced,
        req,
        operator=operator,
        fp=fp,
        config=config,
        kcts=kcts,
        tid=tid,
        now=now,
        move_tid=orm_meter is None,
    )
    if orm_meter is not None:
        orm_meter.sales_head = composed.write.sales_head
    written = store.write_sale(composed.write)
    if isinstance(decision.priced, PolicyPriced):
        policies.record(session, decision.priced, sale_id=meter.sale_id, now=now)
    settle(
        written,
        customer_id=meter.customer_id,
        vendor_id=composed.write.vendor_id,
        limits=limits or SaleLimits(),
        now=now,
    )
    after_sale.sold(session, composed.receipt)  # token SMS once committed (delivery)
    return SaleResult(receipt=composed.receipt, replayed=False)


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
