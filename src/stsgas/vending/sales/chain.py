"""A hash chain of each meter's sales: every issue is tamper-evident (V3, V4).

The audit chain is global and serialises its writers, so sales stay out of
it. Instead each sale links to the one before it *on the same meter*: its
``chain_hash`` is SHA-256 over the previous link and the sale's own facts
(money, credit, operator, time, token digits), and the meter row keeps the
head. A sale holds its meter's row lock anyway, so the chain costs no extra
lock and no extra round trip. Altering a hashed field, deleting a sale (the
last one too: the head moves on the meter) or inserting one shows up in
:func:`broken_meters`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.models import Meter, Sale, Token

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What a link covers (not status or reprint count: those are audited changes)."""

    sale_id: int
    meter_id: int
    operator_id: int
    vendor_id: int | None
    channel: str
    amount_paid: int
    fixed_charge: int
    debt_recovered: int
    tax: int
    energy_amount: int
    credit_units: int | None
    credit_money: int | None
    created_at: datetime
    digits: Sequence[str]


def facts_of(row: Mapping[Any, Any], digits: Sequence[str]) -> Facts:
    """Facts from a sale row (or the dict about to be inserted) keyed by column name."""
    return Facts(
        sale_id=row["id"],
        meter_id=row["meter_id"],
        operator_id=row["operator_id"],
        vendor_id=row["vendor_id"],
        channel=row["channel"],
        amount_paid=row["amount_paid"],
        fixed_charge=row["fixed_charge"],
        debt_recovered=row["debt_recovered"],
        tax=row["tax"],
        energy_amount=row["energy_amount"],
        credit_units=row["credit_units"],
        credit_money=row["credit_money"],
        created_at=row["created_at"],
        digits=digits,
    )


def link(prev: str | None, f: Facts) -> str:
    """The sale's chain hash after ``prev`` (None for a meter's first sale)."""
    doc = [
        prev or "",
        f.sale_id,
        f.meter_id,
        f.operator_id,
        f.vendor_id,
        f.channel,
        f.amount_paid,
        f.fixed_charge,
        f.debt_recovered,
        f.tax,
        f.energy_amount,
        f.credit_units,
        f.credit_money,
        (f.created_at - _EPOCH) // _MICROSECOND,
        list(f.digits),
    ]
    return hashlib.sha256(orjson.dumps(doc)).hexdigest()


_COLUMNS = (
    Sale.id,
    Sale.meter_id,
    Sale.operator_id,
    Sale.vendor_id,
    Sale.channel,
    Sale.amount_paid,
    Sale.fixed_charge,
    Sale.debt_recovered,
    Sale.tax,
    Sale.energy_amount,
    Sale.credit_units,
    Sale.credit_money,
    Sale.created_at,
    Sale.chain_hash,
)


def broken_meters(session: Session) -> list[int]:
    """Meters whose sales do not chain to the head kept on the meter (should be none).

    Sales made before the chain existed (no hash) are skipped until the first linked one.
    """
    digits: dict[int, list[str]] = {}
    for sale_id, d in session.execute(
        select(Token.sale_id, Token.digits)
        .where(Token.sale_id.is_not(None))
        .order_by(Token.sale_id, Token.sequence)
    ):
        if sale_id is not None:
            digits.setdefault(int(sale_id), []).append(str(d))
    heads: dict[int, str | None] = {
        row[0]: row[1] for row in session.execute(select(Meter.id, Meter.sales_head))
    }
    state: dict[int, str | None] = {}
    broken: set[int] = set()
    # in id order, each meter's own sales come in their own order, so one pass keeps
    # every meter's place; the primary key gives that order without a sort (a meter's
    # sales are indexed by month, not by id)
    rows = session.execute(select(*_COLUMNS).order_by(Sale.id).execution_options(yield_per=5000))
    for r in rows:
        if r.chain_hash is None:
            if r.meter_id in state:  # an unlinked sale after linked ones
                broken.add(r.meter_id)
            continue
        facts = facts_of(r._mapping, digits.get(r.id, []))
        if link(state.get(r.meter_id), facts) != r.chain_hash:
            broken.add(r.meter_id)
        state[r.meter_id] = r.chain_hash
    for meter_id, head in heads.items():
        if state.get(meter_id) != head:
            broken.add(meter_id)
    return sorted(broken)
