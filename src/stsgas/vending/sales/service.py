"""Sale rules (V1, V2): one transaction locks the meter, allocates the TID,
makes the token(s), draws the vendor float and writes sale + tokens + ledger.
The sale row is its own audit record (the audit chain's global lock stays
off this hot path); reprints, cancellations and management tokens are
audited. The caller owns the transaction (``sales.transaction``); nothing
here commits.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import orjson
from sqlalchemy.orm import Session

from stsgas.sts import (
    IssuedToken,
    RangeError,
    credit_token,
    datetime_for_tid,
    key_expired,
)
from stsgas.vending.errors import (
    BadAmount,
    BadMeterNumber,
    IdempotencyMismatch,
    InsufficientFloat,
    KeyExpired,
    MeterNotActive,
    MeterNotFound,
    RateLimited,
)
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    Meter,
    MeterMode,
    MeterStatus,
    Sale,
    SaleStatus,
    TokenKind,
)
from stsgas.vending.sales import chain, pricing, receipts
from stsgas.vending.sales.issue import (
    apply_key_change,
    group_config,
    issued_rows,
    next_tid,
)
from stsgas.vending.sales.repository import SaleRepository
from stsgas.vending.sales.store import SaleWrite, store_for
from stsgas.vending.sales.transaction import ReadChanged

#: the largest payment accepted, in minor units (10 million in base currency)
MAX_PAID = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleRequest:
    """A validated sale request."""

    meter_number: str
    paid: int
    channel: str
    idempotency_key: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleResult:
    """The receipt and whether it answers a replayed idempotency key."""

    receipt: dict[str, Any]
    replayed: bool


def parse_amount(text: str) -> int:
    """A money string (at most 2 decimals, positive, bounded) in minor units."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise BadAmount(f"amount {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BadAmount("the amount must be a positive number")
    if value != value.quantize(Decimal("0.01")):
        raise BadAmount("the amount has more than 2 decimals")
    minor = int(value * 100)
    if minor > MAX_PAID:
        raise BadAmount(f"the amount is above the largest sale ({MAX_PAID // 100})")
    return minor


def parse_meter_number(text: str) -> str:
    """A meter number: 11 to 18 digits (a PAN or a DRN), spaces and dashes ignored."""
    digits = "".join(ch for ch in text if ch not in " -")
    if not digits.isdigit() or not 11 <= len(digits) <= 18:
        raise BadMeterNumber(f"meter number {text!r} is not 11 to 18 digits")
    return digits


def fingerprint(req: SaleRequest, operator: Seller) -> str:
    """What makes two requests 'the same' for an idempotency key."""
    doc = {"meter": req.meter_number, "paid": req.paid, "operator": operator.id}
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _replay(sale: Sale, fp: str) -> SaleResult:
    if sale.request_fingerprint != fp or sale.response is None:
        raise IdempotencyMismatch("this idempotency key was used for a different request")
    return SaleResult(receipt=sale.response, replayed=True)


class Seller(Protocol):
    """Who sells: an ORM ``Operator`` or an authenticated ``Principal``."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def vendor_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleLimits:
    """Rate limits a sale is counted against (V4); None switches one off.

    The API passes the configured limits; a direct caller of the service
    (scripts, tests) sells unlimited unless it asks otherwise.
    """

    vendor_per_minute: int | None = None
    customer_per_hour: int | None = None


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
    limits = limits or SaleLimits()
    store = store_for(session)
    fp = fingerprint(req, operator)
    accounts = _accounts(operator.vendor_id, req.channel)
    meter = store.lock_meter(
        req.meter_number, channel=req.channel, key=req.idempotency_key, now=now,
        accounts=accounts,
    )
    if meter is not None and meter.replay_id is not None:
        return _replay_by_id(session, meter.replay_id, fp)
    if meter is None:
        # no such meter, but a committed sale under this key still answers a replay
        if req.idempotency_key is not None:
            done = SaleRepository(session).by_idempotency_key(req.channel, req.idempotency_key)
            if done is not None:
                return _replay(done, fp)
        raise MeterNotFound(f"no meter {req.meter_number}")
    if meter.status != MeterStatus.ACTIVE.value:
        raise MeterNotActive(f"meter {meter.pan} is {meter.status}", meter_status=meter.status)
    version = meter.version
    if version is None:
        raise MeterNotActive(f"meter {meter.pan} has no tariff in force")
    volume = meter.mode == MeterMode.VOLUME.value
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    priced = pricing.price(
        paid=req.paid, volume_mode=volume, fixed_charge=version.fixed_charge,
        tax_rate_bp=version.tax_rate_bp, debt_recovery_bp=version.debt_recovery_bp,
        debt=meter.customer_debt, steps=list(version.steps),
        month_litres=store.month_units(meter.id, month_start) * pricing.LITRES_PER_UNIT
        if volume else 0,
    )
    kcts: list[IssuedToken] = []
    orm_meter: Meter | None = None
    if meter.needs_key_change:
        orm_meter = session.get(Meter, meter.id)  # locked above; the ORM writes the move
        assert orm_meter is not None
        config, kcts = apply_key_change(session, orm_meter, security, now)
        tid = next_tid(orm_meter, now)
        orm_meter.last_tid = tid
    else:
        config = group_config(meter, security, now)
        tid = next_tid(meter, now)
    if key_expired(tid, config.ken):
        raise KeyExpired(f"meter {meter.pan}'s key expired (KEN {config.ken}); change its key")
    at = datetime_for_tid(tid, config.base_date)
    try:
        if volume:
            assert priced.credit_units is not None
            credit = credit_token(config, Decimal(priced.credit_units) / 10, at=at,
                                  rnd=secrets.randbelow(16), subclass=2)
        else:
            assert priced.credit_money is not None
            credit = credit_token(config, Decimal(priced.credit_money) / 100, at=at, subclass=6)
    except RangeError as exc:
        raise BadAmount(f"the credit is above the token's range: {exc}") from None
    assert credit.tid == tid
    for code in meter.missing_accounts:
        ledger.ensure_account(session, code)
    sale_id = meter.sale_id
    steps = [
        {"position": u.position, "litres": u.litres, "price_per_m3": u.price_per_m3,
         "amount": receipts.money(u.amount)}
        for u in priced.steps
    ]
    issued = issued_rows(
        [(TokenKind.KCT.value, k) for k in kcts] + [(TokenKind.CREDIT.value, credit)]
    )
    receipt = receipts.build(
        sale_id=sale_id, meter_pan=meter.pan, mode=meter.mode, channel=req.channel,
        operator=operator.username, vendor_id=operator.vendor_id, created_at=now,
        priced=priced, tariff_steps=steps, tokens=issued,
    )
    lines = [ln for ln in journal_lines(
        vendor_id=operator.vendor_id, channel=req.channel, paid=priced.paid,
        energy=priced.energy_amount, fixed=priced.fixed_charge, tax=priced.tax,
        debt=priced.debt_recovered,
    ) if ln.debit or ln.credit]
    memo = f"sale {sale_id}"
    ledger.check_balanced(lines, memo)
    sale = {
        "id": sale_id, "channel": req.channel, "operator_id": operator.id,
        "vendor_id": operator.vendor_id, "meter_id": meter.id,
        "customer_id": meter.customer_id, "tariff_version_id": version.id,
        "amount_paid": priced.paid, "fixed_charge": priced.fixed_charge,
        "debt_recovered": priced.debt_recovered, "tax": priced.tax,
        "energy_amount": priced.energy_amount, "credit_units": priced.credit_units,
        "credit_money": priced.credit_money, "tariff_steps": steps,
        "key_change": bool(kcts), "status": SaleStatus.COMPLETED.value,
        "idempotency_key": req.idempotency_key, "request_fingerprint": fp,
        "response": receipt, "reprint_count": 0, "created_at": now,
    }
    head = sale["chain_hash"] = chain.link(
        meter.sales_head, chain.facts_of(sale, [t.digits for t in issued])
    )
    if orm_meter is not None:
        orm_meter.sales_head = head
    journal = str(uuid.uuid4())
    written = store.write_sale(SaleWrite(
        sale=sale,
        tokens=[
            {"sale_id": sale_id, "management_request_id": None, "meter_id": meter.id,
             "kind": t.kind, "sequence": t.sequence, "token_class": t.token_class,
             "subclass": t.subclass, "tid": t.tid, "amount": t.amount, "digits": t.digits,
             "created_at": now}
            for t in issued
        ],
        journal=[
            {"journal": journal, "code": ln.account, "sale_id": sale_id, "debit": ln.debit,
             "credit": ln.credit, "memo": memo, "created_at": now}
            for ln in lines
        ],
        meter_id=meter.id, last_tid=None if orm_meter is not None else tid, sales_head=head,
        customer_id=meter.customer_id, debt_recovered=priced.debt_recovered,
        vendor_id=operator.vendor_id, paid=req.paid, hour=_hour(now), minute=_minute(now),
    ))
    if not written.customer_ok:
        raise ReadChanged("the customer's debt changed during the sale")
    if not written.vendor_ok:
        raise InsufficientFloat("the vendor's float does not cover this sale")
    _check_limit(written.customer_count if meter.customer_id is not None else 0,
                 limits.customer_per_hour, "customer", "hour", now, 3600)
    _check_limit(written.vendor_count if operator.vendor_id is not None else 0,
                 written.vendor_limit or limits.vendor_per_minute, "vendor", "minute", now, 60)
    return SaleResult(receipt=receipt, replayed=False)


def _accounts(vendor_id: int | None, channel: str) -> set[str]:
    """The ledger accounts a sale may post to."""
    lines = journal_lines(vendor_id=vendor_id, channel=channel, paid=0, energy=0, fixed=0,
                          tax=0, debt=0)
    return {ln.account for ln in lines}


def _minute(now: datetime) -> int:
    return int(now.timestamp()) // 60


def _hour(now: datetime) -> int:
    return int(now.timestamp()) // 3600


def _check_limit(
    count: int, limit: int | None, who: str, window: str, now: datetime, seconds: int
) -> None:
    if limit is not None and count > limit:
        retry = seconds - int(now.timestamp()) % seconds
        raise RateLimited(
            f"more than {limit} sales per {window} for this {who}; retry in {retry} s",
            retry_after=retry, limit=limit, scope=who,
        )


def journal_lines(
    *, vendor_id: int | None, channel: str, paid: int, energy: int, fixed: int, tax: int,
    debt: int,
) -> list[ledger.Line]:
    """The journal of a sale: the payer's account pays for each receipt item."""
    payer = (
        ledger.vendor_float_account(vendor_id)
        if vendor_id is not None
        else ledger.clearing_account(channel)
    )
    return [
        ledger.Line(account=payer, debit=paid),
        ledger.Line(account=ledger.REVENUE_GAS, credit=energy),
        ledger.Line(account=ledger.REVENUE_FIXED, credit=fixed),
        ledger.Line(account=ledger.TAX, credit=tax),
        ledger.Line(account=ledger.CUSTOMER_DEBT, credit=debt),
    ]


def sale_lines(sale: Sale) -> list[ledger.Line]:
    """The journal of a stored sale (a cancellation posts its reversal)."""
    return journal_lines(
        vendor_id=sale.vendor_id, channel=sale.channel, paid=sale.amount_paid,
        energy=sale.energy_amount, fixed=sale.fixed_charge, tax=sale.tax,
        debt=sale.debt_recovered,
    )
