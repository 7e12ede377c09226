"""The rows a sale reads and writes, as values.

A sale reads once (:class:`LockedMeter`: the meter locked, with everything
its rules need beside it) and writes once (:class:`SaleWrite` in,
:class:`Written` out). The requests that carry them, and the store interface
each engine implements, are :mod:`.ops`. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stsgas.vending.models import FixedChargePeriod
from stsgas.vending.sales import pricing

if TYPE_CHECKING:
    from stsgas.vending.policies.rules import PolicyState

__all__ = [
    "GroupRow",
    "LockedMeter",
    "SaleWrite",
    "VersionRow",
    "Written",
    "steps_of",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRow:
    """The supply-group columns a sale reads."""

    id: int
    sgc: str
    krn: int
    key_type: int
    ea: int
    dkga: int
    vending_key_enc: bytes
    key_expires_at: datetime | None
    is_active: bool

    @classmethod
    def of(cls, row: Sequence[Any]) -> GroupRow:
        """From the columns in field order, as any driver returns them."""
        gid, sgc, krn, key_type, ea, dkga, key_enc, expires, active = row
        return cls(
            id=gid,
            sgc=sgc,
            krn=krn,
            key_type=key_type,
            ea=ea,
            dkga=dkga,
            vending_key_enc=bytes(key_enc),
            key_expires_at=expires,
            is_active=bool(active),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRow:
    """The tariff version in force: charges in minor units and basis points, steps."""

    id: int
    fixed_charge: int
    tax_rate_bp: int
    debt_recovery_bp: int
    steps: tuple[pricing.Step, ...]
    #: "sale" or "month" (``FixedChargePeriod``)
    fixed_charge_period: str = FixedChargePeriod.SALE.value


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedMeter:
    """A meter row locked for this transaction, with what a sale reads beside it."""

    id: int
    pan: str
    mode: str
    status: str
    ti: str
    ken: int
    base_date: int
    last_tid: int
    #: the chain hash of the meter's latest sale (``sales.chain``)
    sales_head: str | None
    needs_key_change: bool
    group: GroupRow
    customer_id: int | None
    #: the customer's debt as read (``write_sale`` re-checks it under the row lock)
    customer_debt: int
    version: VersionRow | None
    #: a committed sale under the request's idempotency key, if any
    replay_id: int | None
    #: the id the new sale row will take
    sale_id: int
    #: gas units (0.1 m³) sold to a volume meter since the month began (0 by amount)
    month_units: int = 0
    #: True when the lock waited for a sale that committed after the read's snapshot
    #: (PostgreSQL, READ COMMITTED): ``month_units`` and ``fixed_paid_at`` miss that
    #: sale; read them again
    month_units_stale: bool = False
    #: the meter's recharge limit: litres or minor units (None: no limit)
    recharge_limit: int | None = None
    #: when the latest completed sale that paid a monthly fixed charge was made (read
    #: only under a monthly fixed charge; None: no such sale)
    fixed_paid_at: datetime | None = None
    #: the customer has a credit policy (``policies``): the pipeline reads it next
    credit_policy: bool = False
    #: that policy as read under the customer's lock (``ops.ReadPolicy``)
    policy: PolicyState | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleWrite:
    """Everything ``write_sale`` stores, already computed."""

    sale: dict[str, Any]
    tokens: list[dict[str, Any]]
    journal: list[dict[str, Any]]
    meter_id: int
    #: the meter's new last TID (this sale's credit token)
    last_tid: int
    #: the meter's new sales chain head (this sale's chain hash)
    sales_head: str
    customer_id: int | None
    debt_recovered: int
    vendor_id: int | None
    paid: int
    hour: int
    minute: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """What the counters said after ``write_sale``."""

    #: False when the customer's debt changed under us (retry the sale)
    customer_ok: bool
    customer_count: int
    #: False when the vendor's float does not cover the sale
    vendor_ok: bool
    vendor_count: int
    vendor_limit: int | None
    #: False when a journal line found no ledger account (nothing may be committed)
    journal_complete: bool = True


def steps_of(rows: Iterable[Any]) -> tuple[pricing.Step, ...]:
    """Price steps from ``(up_to_litres, price_per_m3)`` pairs (None prices skipped)."""
    return tuple(
        pricing.Step(up_to_litres=up_to, price_per_m3=price)
        for up_to, price in rows
        if price is not None
    )
